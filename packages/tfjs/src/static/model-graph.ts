import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { ZeropointError } from "@zeropoint/core";
import { type LayerGraph, layerGraphToTopology, parseLayerGraph } from "../graph/layer-graph.js";
import type { WeightStore } from "./fold-batch-norm.js";

/** Layer classes the static and QAT paths understand. */
export const SUPPORTED_LAYERS: ReadonlySet<string> = new Set([
  "InputLayer",
  "Conv2D",
  "DepthwiseConv2D",
  "Dense",
  "BatchNormalization",
  "ReLU",
  "Activation",
  "MaxPooling2D",
  "AveragePooling2D",
  "GlobalAveragePooling2D",
  "Flatten",
  "Reshape",
  "Dropout",
  "Add",
  "Concatenate",
  "ZeroPadding2D",
  "Permute",
]);

/** Layers whose output keeps its input's quantization (same scale), as TFLite requires. */
export const PASS_THROUGH_LAYERS: ReadonlySet<string> = new Set([
  "MaxPooling2D",
  "Flatten",
  "Reshape",
  "Dropout",
  "ZeroPadding2D",
  "Permute",
]);

/** The graph and float weights of a LayersModel, copied (the model is not modified). */
export function modelGraph(
  model: tfl.LayersModel,
  extraClasses: readonly string[] = [],
): { graph: LayerGraph; weights: WeightStore } {
  const topology = model.toJSON(null, false) as unknown;
  const graph = parseLayerGraph(topology, model.name);
  for (const node of graph.nodes) {
    if (!SUPPORTED_LAYERS.has(node.className) && !extraClasses.includes(node.className)) {
      throw new ZeropointError(
        "unsupported-op",
        `layer ${node.name}: class ${node.className} is not supported by the tfjs quantizer`,
        {
          details: { layer: node.name, className: node.className },
        },
      );
    }
  }
  const weights: WeightStore = new Map();
  for (const layer of model.layers) {
    const list = layer.getWeights();
    if (list.length === 0) continue;
    weights.set(
      layer.name,
      list.map((t) => ({ values: Float32Array.from(t.dataSync() as Float32Array), shape: [...t.shape] })),
    );
  }
  return { graph, weights };
}

/** Assigns stored weights to the layers of `model` that have them. */
export function assignWeights(model: tfl.LayersModel, weights: WeightStore): void {
  for (const [name, list] of weights) {
    let layer: tfl.layers.Layer;
    try {
      layer = model.getLayer(name);
    } catch {
      continue;
    }
    const tensors = list.map((w) => tf.tensor(w.values, [...w.shape], "float32"));
    layer.setWeights(tensors);
    for (const t of tensors) t.dispose();
  }
}

/** A model rebuilt from a graph, with its weights assigned. */
export async function materialize(graph: LayerGraph, weights: WeightStore): Promise<tfl.LayersModel> {
  // Custom layer classes (the fake-quant layers) are found through tfjs' serialization registry.
  const model = await tfl.models.modelFromJSON({ modelTopology: layerGraphToTopology(graph) } as never);
  assignWeights(model, weights);
  return model;
}
