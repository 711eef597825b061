import { describe, expect, it } from "vitest";
import { sqnr } from "./sqnr.js";

describe("sqnr", () => {
  it("matches the closed form 20 log10(|x| / |x - y|)", () => {
    // |x| = 5, |x - y| = 0.05 -> 20 log10(100) = 40 dB.
    expect(sqnr([3, 4], [3.03, 4.04])).toBeCloseTo(40, 10);
    expect(sqnr([1, 2], [1, 2])).toBe(Number.POSITIVE_INFINITY);
    expect(() => sqnr([1], [1, 2])).toThrow(expect.objectContaining({ code: "shape-mismatch" }));
    expect(() => sqnr([], [])).toThrow(expect.objectContaining({ code: "empty-data" }));
  });
});
