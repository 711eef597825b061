import { describe, expect, it } from "vitest";
import { foldBatchNorm } from "./batch-norm-fold.js";
import { channelMinMax } from "./channel-min-max.js";

describe("foldBatchNorm", () => {
  // Closed form: w' = w·γ/sqrt(var+eps), b' = (b − μ)·γ/sqrt(var+eps) + β. var + eps are exact
  // squares here (3 + 1 = 4, 0.25 + 0 = 0.25), so both arithmetics give these values exactly.
  const args = {
    weight: [1, 2, 3, 4, 5, 6],
    bias: [1, -1],
    gamma: [2, 0.5],
    beta: [0.5, 1],
    mean: [3, 1],
    variance: [3, 0.25],
    epsilon: 1,
  };
  it("channels-first: each output channel a contiguous block", () => {
    for (const arithmetic of ["float64", "pytorch-float32"] as const) {
      const r = foldBatchNorm({ ...args, epsilon: 1, variance: [3, -0.75], layout: "channels-first", arithmetic });
      // channel 0: factor 2/2 = 1; channel 1: 0.5/sqrt(0.25) = 1
      expect(Array.from(r.weight)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(Array.from(r.bias)).toEqual([(1 - 3) * 1 + 0.5, (-1 - 1) * 1 + 1]);
    }
  });
  it("channels-last: the channel is the index modulo the channel count", () => {
    const r = foldBatchNorm({ ...args, variance: [3, 15], layout: "channels-last", arithmetic: "float64" });
    // factors 1 and 0.5/4 = 0.125, alternating along the weight
    expect(Array.from(r.weight)).toEqual([1, 0.25, 3, 0.5, 5, 0.75]);
    expect(Array.from(r.bias)).toEqual([-1.5, (-1 - 1) * 0.125 + 1]);
  });
  it("absent γ, β and bias mean 1, 0, 0; a mismatched channel count is a shape-mismatch", () => {
    const r = foldBatchNorm({
      weight: [2, 4],
      mean: [1],
      variance: [3],
      epsilon: 1,
      layout: "channels-first",
      arithmetic: "float64",
    });
    expect(Array.from(r.weight)).toEqual([1, 2]);
    expect(Array.from(r.bias)).toEqual([-0.5]);
    expect(() =>
      foldBatchNorm({ ...args, mean: [1, 2, 3, 4], layout: "channels-first", arithmetic: "float64" }),
    ).toThrow(/output channels/);
  });
});

describe("channelMinMax", () => {
  it("reduces every axis of a [2, 3, 2] tensor; an empty channel keeps ±inf", () => {
    const data = Float32Array.from({ length: 12 }, (_, i) => (i % 5) - 2);
    expect(Array.from(channelMinMax(data, [2, 3, 2], 1).min)).toEqual([-2, 0, -2]);
    expect(Array.from(channelMinMax(data, [2, 3, 2], 1).max)).toEqual([0, 2, 2]);
    expect(Array.from(channelMinMax(data, [2, 3, 2], 0).max)).toEqual([2, 2]);
    const empty = channelMinMax(new Float32Array(0), [0, 2], 1);
    expect(Array.from(empty.min)).toEqual([Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY]);
    expect(() => channelMinMax(data, [2, 3, 2], 3)).toThrow(/outside a rank-3/);
    expect(() => channelMinMax(data, [2, 3], 1)).toThrow(/do not fill/);
  });
});
