import { describe, expect, it } from "vitest";
import { latencyRatio } from "./latency-ratio.js";

describe("latencyRatio", () => {
  it("a constant ratio has a zero-width interval (closed form)", () => {
    const r = latencyRatio([2, 4, 6, 8], [1, 2, 3, 4]);
    expect(r.speedup).toBe(2);
    expect(r.low).toBeCloseTo(2, 12);
    expect(r.high).toBeCloseTo(2, 12);
    expect(r.relativeHalfWidth).toBeCloseTo(0, 12);
    expect(r.baselineMs).toBe(5);
    expect(r.candidateMs).toBe(2.5);
  });

  it("the interval is the t interval of the log ratios (two rounds, closed form)", () => {
    // log ratios ln 2 and ln 0.5: mean 0, sd = ln 2 · √2, t(1) = 12.706, half = 12.706 · ln 2.
    const r = latencyRatio([2, 1], [1, 2]);
    expect(r.low).toBeCloseTo(Math.exp(-12.706 * Math.LN2), 10);
    expect(r.high).toBeCloseTo(Math.exp(12.706 * Math.LN2), 6);
  });

  it("narrows with more rounds of the same noise", () => {
    const noisy = (n: number) => Array.from({ length: n }, (_, i) => 1 + 0.1 * Math.sin(i * 12.9898));
    const few = latencyRatio(
      noisy(10).map((v) => 2 * v),
      Array(10).fill(1),
    );
    const many = latencyRatio(
      noisy(200).map((v) => 2 * v),
      Array(200).fill(1),
    );
    expect(many.relativeHalfWidth).toBeLessThan(few.relativeHalfWidth);
    expect(many.low).toBeLessThan(2);
    expect(many.high).toBeGreaterThan(1.9);
  });

  it("rejects unpaired, too short or non-positive timings with typed errors", () => {
    expect(() => latencyRatio([1, 2], [1])).toThrow(expect.objectContaining({ code: "shape-mismatch" }));
    expect(() => latencyRatio([1], [1])).toThrow(expect.objectContaining({ code: "empty-data" }));
    expect(() => latencyRatio([1, 0], [1, 1])).toThrow(expect.objectContaining({ code: "non-finite-data" }));
  });
});
