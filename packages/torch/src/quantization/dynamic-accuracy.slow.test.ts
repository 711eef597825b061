import { readSharedJson } from "@zeropoint/test-helpers";
import { describe, expect, it } from "vitest";
import { loadedCnn, mnistAccuracy } from "../../test-fixtures/models.js";
import { quantizeDynamic } from "./dynamic.js";

const ref = readSharedJson<{ cnn_dynamic: { acc: number } }>("conformance/pytorch-quantized-cnn.json").cnn_dynamic;

// Acceptance (issue 5, cnn_dynamic): test-split accuracy equal to PyTorch's within 0.1 points.
describe("dynamic quantization accuracy", () => {
  it("matches PyTorch's on the 2004-image test split within 0.1 points", () => {
    const acc = mnistAccuracy(quantizeDynamic(loadedCnn()));
    console.log(`dynamic CNN accuracy ${acc.toFixed(4)} (PyTorch ${ref.acc.toFixed(4)})`);
    expect(Math.abs(acc - ref.acc)).toBeLessThanOrEqual(0.001);
  });
});
