import { describe, expect, it } from "vitest";
import { accuracy, agreement, maxAbsDifference, top1 } from "../metrics/classification.js";
import { evaluateIr } from "./evaluate-ir.js";
import type { IrGraph } from "./model-graph.js";
import { quantizedLayers } from "./quantized-layers.js";

const w = (shape: number[], values: number[]) => ({ shape, data: Float32Array.from(values) });

// 1×1×2×2 input; a 1×1 conv scaling by 2 with bias −3; ReLU; 2×2 max-pool; flatten; linear 1→2.
const graph: IrGraph = {
  name: "closed-form",
  inputs: [{ name: "x", shape: [null, 1, 2, 2] }],
  outputs: ["y"],
  nodes: [
    {
      name: "conv",
      op: "conv2d",
      inputs: ["x"],
      output: "c",
      attributes: {},
      weights: { weight: w([1, 1, 1, 1], [2]), bias: w([1], [-3]) },
    },
    { name: "relu", op: "relu", inputs: ["c"], output: "r", attributes: {}, weights: {} },
    { name: "pool", op: "max-pool", inputs: ["r"], output: "p", attributes: { kernel: [2, 2] }, weights: {} },
    { name: "flat", op: "flatten", inputs: ["p"], output: "f", attributes: { axis: 1 }, weights: {} },
    {
      name: "fc",
      op: "linear",
      inputs: ["f"],
      output: "y",
      attributes: {},
      weights: { weight: w([2, 1], [1, -1]), bias: w([2], [0, 10]) },
    },
  ],
};

describe("evaluateIr", () => {
  it("computes a conv/relu/pool/flatten/linear chain in closed form", () => {
    // x = [1, 2, 3, 0.5] → 2x − 3 = [−1, 1, 3, −2] → relu [0, 1, 3, 0] → max 3 → [3, 10 − 3]
    const out = evaluateIr(graph, { x: { data: Float32Array.from([1, 2, 3, 0.5]), shape: [1, 1, 2, 2] } });
    expect(Array.from(out.get("y")?.data ?? [])).toEqual([3, 7]);
    expect(out.get("y")?.shape).toEqual([1, 2]);
  });
  it("keeps the tensors asked for; an op it does not compute names the node", () => {
    const out = evaluateIr(graph, { x: { data: new Float32Array(4), shape: [1, 1, 2, 2] } }, new Set(["r"]));
    expect([...out.keys()]).toEqual(["r"]);
    const softmax: IrGraph = {
      ...graph,
      nodes: [{ name: "sm", op: "softmax", inputs: ["x"], output: "y", attributes: {}, weights: {} }],
    };
    expect(() => evaluateIr(softmax, { x: { data: new Float32Array(4), shape: [1, 1, 2, 2] } })).toThrow(
      /IR node sm: evaluateIr does not compute softmax/,
    );
  });
  it("quantizedLayers fuses the ReLU that reads a conv's output", () => {
    expect(quantizedLayers(graph).map((l) => [l.node.name, l.outputNode.name])).toEqual([
      ["conv", "relu"],
      ["fc", "fc"],
    ]);
  });
});

describe("classification metrics", () => {
  it("top-1 takes the first maximum; accuracy, agreement and max difference", () => {
    const t = top1([1, 3, 3, 0, 5, -1], 2);
    expect(Array.from(t)).toEqual([1, 1]);
    expect(accuracy(t, [1, 0])).toBe(0.5);
    expect(accuracy(t, undefined)).toBeUndefined();
    expect(agreement(t, Int32Array.from([1, 2]))).toBe(0.5);
    expect(maxAbsDifference([1, 2], [1.5, 2])).toBe(0.5);
    expect(maxAbsDifference([1, 2], [1, Number.NaN])).toBeNaN();
  });
});
