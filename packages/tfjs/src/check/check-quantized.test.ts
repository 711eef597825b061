import { describe, expect, it } from "vitest";
import { checkTfjsQuantized } from "./check-quantized.js";

describe("checkTfjsQuantized", () => {
  it("top-1 agreement over all rows and the worst batch's SQNR, in closed form", () => {
    // Two batches of two rows, two classes. The quantized model flips row 1 of batch 2.
    const batches = [
      { data: Float32Array.of(0, 0), shape: [2, 1] },
      { data: Float32Array.of(1, 1), shape: [2, 1] },
    ];
    const float = (b: { data: Float32Array }) =>
      b.data[0] === 0 ? Float32Array.of(2, 0, 0, 2) : Float32Array.of(2, 0, 0, 2);
    const quantized = (b: { data: Float32Array }) =>
      b.data[0] === 0 ? Float32Array.of(2, 0, 0, 2) : Float32Array.of(2, 0, 2, 0);
    const check = checkTfjsQuantized(float, quantized, batches);
    expect(check.samples).toBe(4);
    expect(check.top1Agreement).toBe(0.75);
    // Batch 2: signal 8, noise 8 → 0 dB (the worst); batch 1 is exact.
    expect(check.outputSqnr).toBe(0);
    expect(check.integerExecutorTop1Agreement).toBeUndefined();
    expect(checkTfjsQuantized(float, quantized, []).top1Agreement).toBeUndefined();
  });
});
