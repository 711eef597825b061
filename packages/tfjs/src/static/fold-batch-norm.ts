import { foldBatchNorm, ZeropointError } from "@zeropoint/core";
import { bypassNode, consumersOf, type LayerGraph, type LayerNode, nodeByName } from "../graph/layer-graph.js";
import { KERNEL_LAYERS } from "./weight-scheme.js";

/** A float weight with its shape. */
export interface WeightValue {
  readonly values: Float32Array;
  readonly shape: readonly number[];
}

/** Weights per layer name, in the layer's `getWeights()` order. */
export type WeightStore = Map<string, WeightValue[]>;

function singleConsumerKernel(graph: LayerGraph, node: LayerNode): LayerNode | undefined {
  if (node.inbound.length !== 1) return undefined;
  const producer = nodeByName(graph, node.inbound[0] as string);
  if (!KERNEL_LAYERS.has(producer.className)) return undefined;
  if ((producer.config.activation ?? "linear") !== "linear") return undefined;
  if (consumersOf(graph, producer.name).length !== 1 || graph.outputs.includes(producer.name)) return undefined;
  return producer;
}

/**
 * Folds every BatchNormalization that directly follows a Conv2D/DepthwiseConv2D/Dense (linear
 * activation, no other consumer) into that layer: `w' = w·γ/√(σ²+ε)` per output channel and
 * `b' = (b - μ)·γ/√(σ²+ε) + β`, in float64, stored float32. This is what TFLite's converter does
 * at conversion and what TFMOT's `Conv2DBatchNormQuantize` defers to it.
 *
 * `aliases`, when given, records each removed layer's survivor (its output is now that layer's).
 *
 * @returns the names of the folded BatchNormalization layers.
 */
export function foldBatchNorms(graph: LayerGraph, weights: WeightStore, aliases?: Map<string, string>): string[] {
  const folded: string[] = [];
  for (const node of [...graph.nodes]) {
    if (node.className !== "BatchNormalization") continue;
    const producer = singleConsumerKernel(graph, node);
    if (producer === undefined) continue;
    const axis = node.config.axis;
    const axisValue = Array.isArray(axis) ? axis[0] : axis;
    if (axisValue !== -1 && axisValue !== 3 && !(producer.className === "Dense" && axisValue === 1)) continue;
    const bnWeights = weights.get(node.name) ?? [];
    const scale = node.config.scale !== false;
    const center = node.config.center !== false;
    const expected = 2 + (scale ? 1 : 0) + (center ? 1 : 0);
    if (bnWeights.length !== expected) {
      throw new ZeropointError(
        "invalid-model",
        `BatchNormalization ${node.name} has ${bnWeights.length} weights, expected ${expected}`,
        {
          details: { layer: node.name },
        },
      );
    }
    let k = 0;
    const gamma = scale ? (bnWeights[k++] as WeightValue).values : undefined;
    const beta = center ? (bnWeights[k++] as WeightValue).values : undefined;
    const mean = (bnWeights[k++] as WeightValue).values;
    const variance = (bnWeights[k++] as WeightValue).values;
    const epsilon = typeof node.config.epsilon === "number" ? node.config.epsilon : 1e-3;
    const own = weights.get(producer.name) ?? [];
    const kernel = own[0];
    if (kernel === undefined)
      throw new ZeropointError("invalid-model", `layer ${producer.name} has no kernel`, {
        details: { layer: producer.name },
      });
    const channels = mean.length;
    const kernelChannels =
      producer.className === "DepthwiseConv2D"
        ? (kernel.shape[2] as number) * (kernel.shape[3] as number)
        : (kernel.shape[kernel.shape.length - 1] as number);
    if (kernelChannels !== channels) {
      throw new ZeropointError(
        "shape-mismatch",
        `BatchNormalization ${node.name} has ${channels} channels, ${producer.name} outputs ${kernelChannels}`,
        {
          details: { layer: node.name },
        },
      );
    }
    const oldBias = producer.config.use_bias === false ? undefined : own[1]?.values;
    const { weight: newKernel, bias: newBias } = foldBatchNorm({
      weight: kernel.values,
      ...(oldBias !== undefined ? { bias: oldBias } : {}),
      ...(gamma !== undefined ? { gamma } : {}),
      ...(beta !== undefined ? { beta } : {}),
      mean,
      variance,
      epsilon,
      layout: "channels-last",
      arithmetic: "float64",
    });
    weights.set(producer.name, [
      { values: newKernel, shape: kernel.shape },
      { values: newBias, shape: [channels] },
    ]);
    producer.config = { ...producer.config, use_bias: true };
    if (producer.config.bias_initializer === undefined)
      producer.config.bias_initializer = { class_name: "Zeros", config: {} };
    weights.delete(node.name);
    bypassNode(graph, node);
    aliases?.set(node.name, producer.name);
    folded.push(node.name);
  }
  return folded;
}

/** The activation a ReLU/Activation layer applies, if it is one a kernel layer can absorb. */
function absorbableActivation(node: LayerNode): "relu" | "relu6" | undefined {
  if (node.className === "Activation") {
    const a = node.config.activation;
    return a === "relu" || a === "relu6" ? a : undefined;
  }
  if (node.className === "ReLU") {
    const slope = (node.config.negative_slope as number | undefined) ?? 0;
    const threshold = (node.config.threshold as number | undefined) ?? 0;
    if (slope !== 0 || threshold !== 0) return undefined;
    const max = node.config.max_value;
    if (max === null || max === undefined) return "relu";
    return max === 6 ? "relu6" : undefined;
  }
  return undefined;
}

/**
 * Moves a ReLU/ReLU6 that directly follows a kernel layer into that layer's activation, so the
 * pair has one quantized output (TFMOT's `LayerReLUQuantize`; TFLite fuses the same way).
 *
 * @returns the names of the absorbed activation layers.
 */
export function fuseActivations(graph: LayerGraph, aliases?: Map<string, string>): string[] {
  const fused: string[] = [];
  for (const node of [...graph.nodes]) {
    const activation = absorbableActivation(node);
    if (activation === undefined) continue;
    const producer = singleConsumerKernel(graph, node);
    if (producer === undefined) continue;
    producer.config = { ...producer.config, activation };
    bypassNode(graph, node);
    aliases?.set(node.name, producer.name);
    fused.push(node.name);
  }
  return fused;
}
