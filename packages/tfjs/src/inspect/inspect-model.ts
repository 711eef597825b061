import type * as tf from "@tensorflow/tfjs-core";
import { parseLayerGraph } from "../graph/layer-graph.js";
import { storedByteLength } from "../io/file-system-io.js";
import { PASS_THROUGH_LAYERS, SUPPORTED_LAYERS } from "../static/model-graph.js";
import { KERNEL_LAYERS } from "../static/weight-scheme.js";

/** What `zeropoint inspect` shows of a tfjs model. */
export interface ModelInspection {
  readonly kind: "layers-model" | "graph-model";
  /** Layers (LayersModel) or graph nodes (GraphModel), with what static quantization does to each. */
  readonly layers: { name: string; type: string; inputs: string[]; staticQuantization: string }[];
  /** Op (or layer class) histogram. */
  readonly opCounts: Record<string, number>;
  readonly weights: {
    name: string;
    shape: number[];
    dtype: string;
    storedAs: string;
    bytes: number;
    weightOnly: string;
  }[];
  readonly weightBytes: number;
}

function staticRole(className: string): string {
  if (!SUPPORTED_LAYERS.has(className)) return "not supported (static/QAT refuse the model)";
  if (KERNEL_LAYERS.has(className)) return "int8 kernel + uint8 output";
  if (className === "BatchNormalization") return "folded into the preceding kernel when it directly follows one";
  if (PASS_THROUGH_LAYERS.has(className)) return "same scale as its input";
  if (className === "InputLayer") return "uint8 input";
  return "uint8 output";
}

/** Lists layers/ops, weights and what each quantization approach would do, from model artifacts. */
export function inspectModel(artifacts: tf.io.ModelArtifacts): ModelInspection {
  const topology = artifacts.modelTopology as Record<string, unknown> | undefined;
  const weights = (artifacts.weightSpecs ?? []).map((w) => {
    const bytes = storedByteLength(w);
    const stored = w.quantization?.dtype ?? w.dtype;
    return {
      name: w.name,
      shape: [...w.shape],
      dtype: w.dtype,
      storedAs: stored,
      bytes,
      weightOnly:
        w.dtype !== "float32"
          ? `kept (${w.dtype})`
          : w.quantization !== undefined
            ? "already quantized"
            : "quantizable",
    };
  });
  const opCounts: Record<string, number> = {};
  const layers: ModelInspection["layers"] = [];
  let kind: ModelInspection["kind"];
  if (topology !== undefined && Array.isArray(topology.node)) {
    kind = "graph-model";
    for (const node of topology.node as { name: string; op: string; input?: string[] }[]) {
      opCounts[node.op] = (opCounts[node.op] ?? 0) + 1;
      layers.push({
        name: node.name,
        type: node.op,
        inputs: node.input ?? [],
        staticQuantization: "GraphModel: weight-only only",
      });
    }
  } else {
    kind = "layers-model";
    const graph = parseLayerGraph(topology, "model.json");
    for (const node of graph.nodes) {
      opCounts[node.className] = (opCounts[node.className] ?? 0) + 1;
      layers.push({
        name: node.name,
        type: node.className,
        inputs: node.inbound,
        staticQuantization: staticRole(node.className),
      });
    }
  }
  return { kind, layers, opCounts, weights, weightBytes: weights.reduce((a, w) => a + w.bytes, 0) };
}
