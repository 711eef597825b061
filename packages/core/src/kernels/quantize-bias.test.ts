import { describe, expect, it } from "vitest";
import { quantizeBias } from "./quantize-bias.js";

describe("quantizeBias", () => {
  it("uses input scale x weight scale per channel and rounds half to even", () => {
    const r = quantizeBias(Float32Array.of(0.25, -0.75, 1), 0.5, Float32Array.of(0.5, 0.5, 0.25));
    // scales 0.25, 0.25, 0.125 -> 1, -3, 8
    expect(Array.from(r.scale)).toEqual([0.25, 0.25, 0.125]);
    expect(Array.from(r.values)).toEqual([1, -3, 8]);
    expect(Array.from(quantizeBias(Float32Array.of(2.5, 3.5, -2.5), 1, 1).values)).toEqual([2, 4, -2]);
  });

  it("clips to int32 and reports it (onnxruntime's overflow case: 0.5 x 7.843e-10)", () => {
    const r = quantizeBias(Float32Array.of(5, -4.5), 0.5, 7.843e-10);
    expect(r.clipped).toBe(2);
    expect(Array.from(r.values)).toEqual([2147483647, -2147483648]);
  });

  it("rejects bad scales, NaN and mismatched channels", () => {
    expect(() => quantizeBias(Float32Array.of(1), 0, 1)).toThrow(expect.objectContaining({ code: "invalid-argument" }));
    expect(() => quantizeBias(Float32Array.of(Number.NaN), 1, 1)).toThrow(
      expect.objectContaining({ code: "non-finite-data" }),
    );
    expect(() => quantizeBias(Float32Array.of(1, 2), 1, Float32Array.of(1, 2, 3))).toThrow(
      expect.objectContaining({ code: "shape-mismatch" }),
    );
  });
});
