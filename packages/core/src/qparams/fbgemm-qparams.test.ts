import { describe, expect, it } from "vitest";
import { chooseQuantizationParams } from "./fbgemm-qparams.js";

describe("chooseQuantizationParams (fbgemm)", () => {
  it("widens to include 0 and picks the zero point from the end with the smaller error", () => {
    // [-1, 3] on 0..255: scale 4/255; from min: 0 + 255/4 = 63.75 (error 0 - 63.75), from max:
    // 255 - 3*255/4 = 63.75 (error 255 - 191.25 = 63.75) -> min side (-63.75 < 63.75) -> round 64.
    const p = chooseQuantizationParams(-1, 3, 0, 255);
    expect(p.scale).toBe(Math.fround(4 / 255));
    expect(p.zeroPoint).toBe(64);
    expect(chooseQuantizationParams(0.5, 2, 0, 255)).toEqual({ scale: Math.fround(2 / 255), zeroPoint: 0 });
  });
  it("halves the integer range with reduceRange (x86 dynamic activations use 0..127)", () => {
    const p = chooseQuantizationParams(0, 12.7, 0, 255, { reduceRange: true });
    expect(p.scale).toBeCloseTo(0.1, 7);
    expect(p.zeroPoint).toBe(0);
  });
  it("uses 0.1 for an empty range and floors tiny scales at 6.1e-5", () => {
    expect(chooseQuantizationParams(0, 0, 0, 255)).toEqual({ scale: Math.fround(0.1), zeroPoint: 0 });
    expect(chooseQuantizationParams(0, 1e-6, 0, 255).scale).toBe(Math.fround(6.1e-5));
  });
  it("rejects non-finite and inverted ranges", () => {
    expect(() => chooseQuantizationParams(Number.NaN, 1, 0, 255)).toThrow(
      expect.objectContaining({ code: "non-finite-data" }),
    );
    expect(() => chooseQuantizationParams(2, 1, 0, 255)).toThrow(expect.objectContaining({ code: "invalid-range" }));
  });
});
