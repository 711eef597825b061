import { loadModel } from "../src/model/model-io.js";
import type { OnnxGraph, OnnxModel, OnnxNode } from "../src/model/onnx-schema.js";
import { sharedModelBytes } from "./mnist-eval.js";

/**
 * The shared MLP with its whole network inside both branches of an If on a constant condition
 * (as exporters write models with a data-dependent path): every weight stays an outer-scope
 * initializer that the branches read by name.
 */
export function mlpInsideIf(condition: "constant" | "run-time" = "run-time"): OnnxModel {
  const { model } = loadModel(sharedModelBytes("mlp"));
  const g = model.graph as OnnxGraph;
  const outer = new Set([...g.initializer.map((t) => t.name ?? ""), ...g.input.map((v) => v.name ?? "")]);
  const branch = (prefix: string): OnnxGraph => {
    const rename = (name: string) => (name === "" || outer.has(name) ? name : `${prefix}_${name}`);
    const node: OnnxNode[] = g.node.map((n) => ({
      ...n,
      name: `${prefix}_${n.name ?? n.opType}`,
      input: n.input.map(rename),
      output: n.output.map(rename),
    }));
    return {
      ...g,
      name: prefix,
      node,
      initializer: [],
      input: [],
      output: g.output.map((o) => ({ ...o, name: rename(o.name ?? "") })),
      valueInfo: [],
    } as OnnxGraph;
  };
  const constantCondition = {
    name: "use_network",
    dims: [],
    dataType: 9,
    rawData: Uint8Array.of(1),
  };
  // A run-time condition (true for any finite input) keeps the If in the graph; a constant one is
  // what exporters write for a branch fixed at export, and pre-processing inlines it.
  const conditionNodes: OnnxNode[] =
    condition === "constant"
      ? []
      : ([
          { name: "sum", opType: "ReduceSum", input: ["input"], output: ["input_sum"], attribute: [] },
          { name: "nan", opType: "IsNaN", input: ["input_sum"], output: ["input_nan"], attribute: [] },
          { name: "finite", opType: "Not", input: ["input_nan"], output: ["input_finite"], attribute: [] },
        ] as unknown as OnnxNode[]);
  const ifNode: OnnxNode = {
    name: "route",
    opType: "If",
    input: [condition === "constant" ? "use_network" : "input_finite"],
    output: ["logits"],
    attribute: [
      { name: "then_branch", type: 5, g: branch("then") },
      { name: "else_branch", type: 5, g: branch("else") },
    ],
  } as unknown as OnnxNode;
  return {
    ...model,
    graph: {
      ...g,
      node: [...conditionNodes, ifNode],
      initializer: [...g.initializer, ...(condition === "constant" ? [constantCondition] : [])],
    } as unknown as OnnxGraph,
  };
}
