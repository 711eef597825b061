import type * as tf from "@tensorflow/tfjs-core";
import { parseLayerGraph } from "../graph/layer-graph.js";
import { storedByteLength } from "../io/file-system-io.js";
import type { WeightStore } from "../static/fold-batch-norm.js";
import { PASS_THROUGH_LAYERS, SUPPORTED_LAYERS } from "../static/model-graph.js";
import { foldAndFuse } from "../static/quantize-static.js";
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
    const original = graph.nodes.map((n) => ({ ...n, inbound: [...n.inbound] }));
    // Fold/fuse on placeholder weights of the right shapes: only the graph surgery matters here.
    const placeholders: WeightStore = new Map();
    for (const w of artifacts.weightSpecs ?? []) {
      const layer = w.name.split("/")[0] as string;
      const list = placeholders.get(layer) ?? [];
      list.push({ values: new Float32Array(w.shape.reduce((a, b) => a * b, 1)).fill(1), shape: w.shape });
      placeholders.set(layer, list);
    }
    let aliases = new Map<string, string>();
    if (graph.nodes.every((n) => SUPPORTED_LAYERS.has(n.className))) {
      try {
        aliases = foldAndFuse(graph, placeholders).aliases;
      } catch {
        aliases = new Map();
      }
    }
    for (const node of original) {
      opCounts[node.className] = (opCounts[node.className] ?? 0) + 1;
      const into = aliases.get(node.name);
      const absorbed = [...aliases].filter(([, to]) => to === node.name).map(([from]) => from);
      let role = staticRole(node.className);
      if (into !== undefined)
        role = node.className === "BatchNormalization" ? `folded into ${into}` : `fused into ${into}`;
      else if (absorbed.length > 0) role = `int8 kernel + one uint8 output after ${absorbed.join(", ")}`;
      layers.push({ name: node.name, type: node.className, inputs: node.inbound, staticQuantization: role });
    }
  }
  return { kind, layers, opCounts, weights, weightBytes: weights.reduce((a, w) => a + w.bytes, 0) };
}
