import { readSharedJson } from "@zeropoint/test-helpers";
import { describe, expect, it } from "vitest";
import { eagerQuantizedCnn, mnistAccuracy } from "../../test-fixtures/models.js";

const ref = readSharedJson<{ cnn_eager_ptq: { acc: number } }>("conformance/pytorch-quantized-cnn.json").cnn_eager_ptq;

// Acceptance (issue 5, cnn_eager_ptq): test-split accuracy equal to PyTorch's within 0.1 points.
describe("eager static quantization accuracy", () => {
  it("matches PyTorch's on the test split within 0.1 points", () => {
    const acc = mnistAccuracy(eagerQuantizedCnn());
    console.log(`eager PTQ CNN accuracy ${acc.toFixed(4)} (PyTorch ${ref.acc.toFixed(4)})`);
    expect(Math.abs(acc - ref.acc)).toBeLessThanOrEqual(0.001);
  });
});
