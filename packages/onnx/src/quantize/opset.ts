import { ZeropointError } from "@zeropoint/core";
import {
  attributes,
  floatAttribute,
  GraphIndex,
  getAttribute,
  intAttribute,
  intsAttribute,
  nodeLabel,
} from "../graph/graph-index.js";
import { opsetVersion } from "../model/model-io.js";
import type { OnnxGraph, OnnxModel, OnnxNode } from "../model/onnx-schema.js";
import { makeInt64Tensor, makeTensor } from "../model/tensor-data.js";

/**
 * Ops whose signature or semantics changed between opset 9 and 13 and that cannot be carried over
 * automatically: a model using them below the target opset is refused with the op named.
 */
const UNCONVERTIBLE = new Set(["Upsample", "Resize", "Scatter"]);

/** Ops whose semantics changed between opset 13 and 21 and that are refused on the way there. */
const UNCONVERTIBLE_TO_21 = new Set(["GridSample", "DFT", "Upsample", "Scatter"]);

/** Reduce ops whose `axes` attribute became an input at opset 18 (ReduceSum already at 13). */
const REDUCE_18 = new Set([
  "ReduceL1",
  "ReduceL2",
  "ReduceLogSum",
  "ReduceLogSumExp",
  "ReduceMax",
  "ReduceMean",
  "ReduceMin",
  "ReduceProd",
  "ReduceSumSquare",
]);

/**
 * Makes sure the model's default-domain opset is at least `minimum`. Below it, every op whose
 * signature changed on the way to opset 13 is rewritten (Clip/Pad/Slice/Split/Squeeze/Unsqueeze/
 * ReduceSum/TopK attributes become inputs, Dropout's ratio, Softmax-family 2-D coercion becomes an
 * explicit Flatten/Reshape); the version is raised only when every node could be converted, else a
 * typed `unsupported-op` error names the first node that cannot. Returns the model (converted in place).
 */
export function ensureOpset(model: OnnxModel, minimum: number): OnnxModel {
  const version = opsetVersion(model);
  if (version === undefined) throw new ZeropointError("invalid-model", "model imports no default-domain opset");
  if (version >= minimum) return model;
  if (version < 7) throw new ZeropointError("unsupported-op", `opset ${version} is older than zeropoint supports (7+)`);
  if (minimum > 21)
    throw new ZeropointError("unsupported-op", `zeropoint converts models up to opset 21, not ${minimum}`);
  const graph = model.graph as OnnxGraph;
  const target = minimum > 13 ? 21 : 13;
  if (version < 13) convertGraph(graph, version);
  if (target === 21) convertGraphTo21(graph, Math.max(version, 13));
  for (const o of model.opsetImport) if ((o.domain ?? "") === "" || o.domain === "ai.onnx") o.version = target;
  const ir = model.irVersion === undefined ? 0 : Number(model.irVersion);
  // IR 7 goes with opset 13; IR 10 is the first with int4 tensors (opset 21).
  const minimumIr = target === 21 ? 10 : 7;
  if (ir < minimumIr) model.irVersion = minimumIr;
  return model;
}

function convertGraphTo21(graph: OnnxGraph, from: number): void {
  const index = new GraphIndex(graph);
  for (const node of graph.node) {
    for (const a of node.attribute) {
      if (a.g) convertGraphTo21(a.g, from);
      for (const g of a.graphs ?? []) convertGraphTo21(g, from);
    }
    if ((node.domain ?? "") !== "" && node.domain !== "ai.onnx") continue;
    const op = node.opType ?? "";
    if (UNCONVERTIBLE_TO_21.has(op)) {
      throw new ZeropointError(
        "unsupported-op",
        `node ${nodeLabel(node)}: ${op} from opset ${from} cannot be converted to opset 21`,
        {
          details: { node: node.name, op },
        },
      );
    }
    if (from < 18 && REDUCE_18.has(op) && getAttribute(node, "axes")) {
      const name = index.uniqueName(`${node.name || op}_axes`);
      graph.initializer.push(
        makeInt64Tensor(name, [intsAttribute(node, "axes", []).length], intsAttribute(node, "axes", [])),
      );
      node.input = [node.input[0] as string, name];
      node.attribute = node.attribute.filter((a) => a.name !== "axes");
    }
  }
}

function convertGraph(graph: OnnxGraph, from: number): void {
  const index = new GraphIndex(graph);
  const out: OnnxNode[] = [];
  const constant = (base: string, values: number[], dims: number[] = [values.length]) => {
    const name = index.uniqueName(base);
    graph.initializer.push(makeInt64Tensor(name, dims, values));
    return name;
  };
  for (const node of graph.node) {
    for (const a of node.attribute) {
      if (a.g) convertGraph(a.g, from);
      for (const g of a.graphs ?? []) convertGraph(g, from);
    }
    if ((node.domain ?? "") !== "" && node.domain !== "ai.onnx") {
      out.push(node);
      continue;
    }
    const op = node.opType ?? "";
    const label = node.name || `${op}_${node.output[0]}`;
    if (UNCONVERTIBLE.has(op) && !(op === "Resize" && from >= 11)) {
      throw new ZeropointError(
        "unsupported-op",
        `node ${nodeLabel(node)}: ${op} from opset ${from} cannot be converted to opset 13`,
        {
          details: { node: node.name, op },
        },
      );
    }
    switch (op) {
      case "Clip":
        if (from < 11) {
          const min = floatAttribute(node, "min", -3.4028234663852886e38);
          const max = floatAttribute(node, "max", 3.4028234663852886e38);
          const lo = index.uniqueName(`${label}_min`);
          const hi = index.uniqueName(`${label}_max`);
          graph.initializer.push(makeTensor(lo, [], Float32Array.of(min)), makeTensor(hi, [], Float32Array.of(max)));
          node.input = [node.input[0] as string, lo, hi];
          node.attribute = [];
        }
        break;
      case "Pad":
        if (from < 11) {
          const pads = intsAttribute(node, "pads", []);
          const value = floatAttribute(node, "value", 0);
          const mode = getAttribute(node, "mode");
          const valueName = index.uniqueName(`${label}_value`);
          graph.initializer.push(makeTensor(valueName, [], Float32Array.of(value)));
          node.input = [node.input[0] as string, constant(`${label}_pads`, pads), valueName];
          node.attribute = mode ? [mode] : [];
        }
        break;
      case "Slice":
        if (from < 10) {
          const starts = intsAttribute(node, "starts", []);
          const ends = intsAttribute(node, "ends", []);
          const axes = getAttribute(node, "axes") ? intsAttribute(node, "axes", []) : undefined;
          node.input = [
            node.input[0] as string,
            constant(`${label}_starts`, starts),
            constant(`${label}_ends`, ends),
            ...(axes ? [constant(`${label}_axes`, axes)] : []),
          ];
          node.attribute = [];
        }
        break;
      case "Squeeze":
      case "Unsqueeze":
      case "ReduceSum":
        if (from < 13 && getAttribute(node, "axes")) {
          const axes = intsAttribute(node, "axes", []);
          node.input = [node.input[0] as string, constant(`${label}_axes`, axes)];
          node.attribute = node.attribute.filter((a) => a.name !== "axes");
        }
        break;
      case "Split":
        if (from < 13 && getAttribute(node, "split")) {
          const split = intsAttribute(node, "split", []);
          node.input = [node.input[0] as string, constant(`${label}_split`, split)];
          node.attribute = node.attribute.filter((a) => a.name !== "split");
        }
        break;
      case "TopK":
        if (from < 10) {
          node.input = [node.input[0] as string, constant(`${label}_k`, [intAttribute(node, "k", 1)])];
          node.attribute = node.attribute.filter((a) => a.name !== "k");
        }
        break;
      case "Dropout":
        if (from < 12) {
          // Inference-time Dropout is the identity; the ratio attribute would be an input now.
          node.attribute = node.attribute.filter((a) => a.name !== "ratio" && a.name !== "is_test");
          node.output = node.output.slice(0, 1);
        }
        break;
      case "Softmax":
      case "LogSoftmax":
      case "Hardmax":
        if (from < 13) {
          // Before opset 13 these flattened the input to 2-D at `axis`; make that explicit.
          const axis = intAttribute(node, "axis", 1);
          const input = node.input[0] as string;
          const output = node.output[0] as string;
          const flat = index.uniqueName(`${label}_flatten_output`);
          const shape = index.uniqueName(`${label}_input_shape`);
          const inner = index.uniqueName(`${label}_2d_output`);
          out.push(
            {
              name: index.uniqueName(`${label}_Shape`),
              opType: "Shape",
              input: [input],
              output: [shape],
              attribute: [],
            },
            {
              name: index.uniqueName(`${label}_Flatten`),
              opType: "Flatten",
              input: [input],
              output: [flat],
              attribute: attributes({ axis }),
            },
            { ...node, input: [flat], output: [inner], attribute: attributes({ axis: 1 }) },
            {
              name: index.uniqueName(`${label}_Reshape`),
              opType: "Reshape",
              input: [inner, shape],
              output: [output],
              attribute: [],
            },
          );
          continue;
        }
        break;
      case "BatchNormalization":
        node.attribute = node.attribute.filter(
          (a) => a.name !== "spatial" && a.name !== "consumed_inputs" && a.name !== "is_test",
        );
        node.output = node.output.slice(0, 1);
        break;
      default:
        break;
    }
    out.push(node);
  }
  graph.node = out;
}
