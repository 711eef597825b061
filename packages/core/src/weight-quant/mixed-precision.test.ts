import { describe, expect, it } from "vitest";
import { chooseLayerBits, upgradeOrder } from "./mixed-precision.js";

const layer = (name: string, e4: number, e8: number, bytes4: number) => ({
  name,
  choices: [
    { bits: 4, bytes: bytes4, error: e4 },
    { bits: 8, bytes: 2 * bytes4, error: e8 },
    { bits: 16, bytes: 8 * bytes4, error: 0 },
  ],
});

describe("chooseLayerBits (greedy error per byte within a budget)", () => {
  it("no budget keeps every layer at its cheapest choice", () => {
    const d = chooseLayerBits([layer("a", 1, 0.1, 100), layer("b", 2, 0.2, 100)], 0);
    expect(d.map((x) => x.bits)).toEqual([4, 4]);
    expect(d.map((x) => x.baseError)).toEqual([1, 2]);
  });

  it("buys the largest error drop per byte first: b (1.8 per 100 bytes) before a (0.9 per 100)", () => {
    const d = chooseLayerBits([layer("a", 1, 0.1, 100), layer("b", 2, 0.2, 100)], 100);
    expect(d.map((x) => x.bits)).toEqual([4, 8]);
    expect(d[1]?.bytes).toBe(200);
  });

  it("a small layer's cheap upgrade beats a large layer's bigger but costlier one", () => {
    // Large: drop 1.0 for 1000 bytes (0.001/byte); small: drop 0.5 for 10 bytes (0.05/byte).
    const d = chooseLayerBits([layer("large", 1.1, 0.1, 1000), layer("small", 0.6, 0.1, 10)], 60);
    // 60 bytes: small to 8 bits (10), then small to float (70 more) does not fit; large does not fit.
    expect(d.map((x) => x.bits)).toEqual([4, 8]);
  });

  it("spends the budget on float where it is worth it, and stops at a loss budget", () => {
    const layers = [layer("a", 1, 0.5, 10), layer("b", 0.01, 0.005, 10)];
    expect(chooseLayerBits(layers, 1000).map((x) => x.bits)).toEqual([16, 16]);
    // Loss budget 0.6: a to 8 bits (drop 0.5 for 10 bytes) leaves 0.51 total, so it stops there.
    expect(chooseLayerBits(layers, 1000, 0.6).map((x) => x.bits)).toEqual([8, 4]);
  });

  it("refuses a negative budget and non-finite errors", () => {
    expect(() => chooseLayerBits([layer("a", 1, 0.1, 1)], -1)).toThrow(/budget/);
    expect(() => chooseLayerBits([layer("a", Number.NaN, 0.1, 1)], 10)).toThrow(/non-finite/);
  });
});

describe("upgradeOrder", () => {
  it("lists every upgrade by error per byte, totals after each; its affordable prefix is what a budget buys", () => {
    const layers = [layer("a", 1, 0.1, 100), layer("b", 2, 0.2, 100)];
    const steps = upgradeOrder(layers);
    expect(steps.map((s) => `${s.name}:${s.bits}`)).toEqual(["b:8", "a:8", "b:16", "a:16"]);
    expect(steps.map((s) => s.extraBytes)).toEqual([100, 200, 800, 1400]);
    expect(steps[steps.length - 1]?.totalError).toBeCloseTo(0, 12);
    // With a budget of 200 bytes chooseLayerBits makes the same two upgrades.
    expect(chooseLayerBits(layers, 200).map((d) => d.bits)).toEqual([8, 8]);
  });
});
