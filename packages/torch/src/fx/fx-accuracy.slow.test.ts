import { readSharedJson } from "@zeropoint/test-helpers";
import { describe, expect, it } from "vitest";
import { fxCnn, mnistAccuracy } from "../../test-fixtures/models.js";

const ref = readSharedJson<{ cnn_fx_ptq: { acc: number } }>("conformance/pytorch-quantized-cnn.json").cnn_fx_ptq;

// Acceptance (issue 5, cnn_fx_ptq): test-split accuracy within 0.2 points of PyTorch's.
describe("FX static quantization accuracy", () => {
  it("matches PyTorch's on the test split within 0.2 points", () => {
    const acc = mnistAccuracy(fxCnn());
    console.log(`FX PTQ CNN accuracy ${acc.toFixed(4)} (PyTorch ${ref.acc.toFixed(4)})`);
    expect(Math.abs(acc - ref.acc)).toBeLessThanOrEqual(0.002);
  });
});
