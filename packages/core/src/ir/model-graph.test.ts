import { describe, expect, it } from "vitest";
import { type IrGraph, type IrNode, isChain, validateIrGraph } from "./model-graph.js";

const linear = (name: string, input: string, out: number, inFeatures: number) => ({
  name,
  op: "linear" as const,
  inputs: [input],
  output: `${name}.out`,
  attributes: {},
  weights: { weight: { shape: [out, inFeatures], data: new Float32Array(out * inFeatures) } },
});

const graph: IrGraph = {
  name: "g",
  inputs: [{ name: "x", shape: [null, 4] }],
  outputs: ["b.out"],
  nodes: [
    linear("a", "x", 3, 4),
    { name: "r", op: "relu", inputs: ["a.out"], output: "r.out", attributes: {}, weights: {} },
    linear("b", "r.out", 2, 3),
  ],
};

describe("IR graph validation", () => {
  it("accepts a well-formed chain", () => {
    expect(() => validateIrGraph(graph)).not.toThrow();
    expect(isChain(graph)).toBe(true);
  });
  it("names the node: undefined input, wrong weight size, missing weight, unknown op", () => {
    const bad = (nodes: IrGraph["nodes"]) => () => validateIrGraph({ ...graph, nodes });
    expect(bad([linear("a", "nope", 3, 4)])).toThrow(/IR node a \(linear\): input nope is not defined before it/);
    expect(
      bad([{ ...linear("a", "x", 3, 4), weights: { weight: { shape: [3, 4], data: new Float32Array(5) } } }]),
    ).toThrow(/IR node a \(linear\): weight weight has 5 values for shape \[3, 4\]/);
    expect(bad([{ ...linear("a", "x", 3, 4), weights: {} }])).toThrow(/missing weight weight/);
    expect(bad([{ ...linear("a", "x", 3, 4), op: "gelu" as never }])).toThrow(/IR node a \(gelu\): unknown op/);
  });
  it("a branching graph is not a chain", () => {
    const add = { name: "s", op: "add" as const, inputs: ["a.out", "x"], output: "s.out", attributes: {}, weights: {} };
    expect(isChain({ ...graph, nodes: [linear("a", "x", 4, 4), add], outputs: ["s.out"] })).toBe(false);
  });

  it("attributes are typed by op: a node's attributes narrow with its op, wrong types do not compile", () => {
    const conv: IrNode = {
      name: "c",
      op: "conv2d",
      inputs: ["x"],
      output: "c.out",
      attributes: { strides: [2, 2], group: 1 },
      weights: {},
    };
    // Narrowed by the discriminant: strides are numbers, no cast.
    const strides: readonly number[] | undefined = conv.op === "conv2d" ? conv.attributes.strides : undefined;
    expect(strides).toEqual([2, 2]);
    // @ts-expect-error a pool's kernel is a list of integers (tsc -b in `pnpm typecheck` checks this)
    const wrong: IrNode = {
      name: "p",
      op: "max-pool",
      inputs: ["x"],
      output: "p.out",
      attributes: { kernel: "3x3" },
      weights: {},
    };
    expect(wrong.op).toBe("max-pool");
  });
});
