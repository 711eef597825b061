import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { createObserver, type Observer, type ObserverKind, ZeropointError } from "@zeropoint/core";
import { activationQParams, FakeQuantLayer } from "../fake-quant/fake-quant-layer.js";
import { insertAfter, type LayerGraph, type LayerNode } from "../graph/layer-graph.js";
import { foldBatchNorms, fuseActivations, type WeightStore } from "./fold-batch-norm.js";
import { materialize, modelGraph, PASS_THROUGH_LAYERS } from "./model-graph.js";
import { type QuantizationParameters, type TensorQParams, toTensorQParams } from "./quantization-parameters.js";
import { KERNEL_LAYERS, kernelQParams, quantizeKernel, type WeightQuantConfig } from "./weight-scheme.js";

/** Calibration batches: tensors or flat float arrays shaped like the model input (any batch size). */
export type CalibrationBatches = Iterable<tf.Tensor | Float32Array> | AsyncIterable<tf.Tensor | Float32Array>;

/** Options for {@link quantizeStatic}. */
export interface StaticQuantizeOptions {
  readonly calibration: CalibrationBatches;
  /** Core observer for activation ranges; default `minmax` (TFLite's representative-dataset min/max). */
  readonly observer?: ObserverKind;
  readonly weights?: WeightQuantConfig;
  /** Called after each calibration batch with the number of batches and samples seen. */
  readonly onProgress?: (batches: number, samples: number) => void;
}

/** A float range per quantization point (layer output). */
export type ActivationRanges = Map<string, { min: number; max: number }>;

/** Result of {@link quantizeStatic} and `convertQat`. */
export interface QuantizedModel {
  /** The fake-quantized (emulated int8) model: float layers plus `ZeropointFakeQuant` layers. */
  readonly model: tfl.LayersModel;
  /** Per-tensor scale / zero point / dtype and the layer list, for an integer runtime. */
  readonly parameters: QuantizationParameters;
  /** BatchNormalization layers folded into the preceding kernels. */
  readonly foldedBatchNorms: string[];
}

/** The graph and weights static quantization works on: BatchNorm folded, ReLUs fused. */
export function prepareGraph(model: tfl.LayersModel): {
  graph: LayerGraph;
  weights: WeightStore;
  folded: string[];
  aliases: Map<string, string>;
} {
  const { graph, weights } = modelGraph(model);
  return { graph, weights, ...foldAndFuse(graph, weights) };
}

/** Folds BatchNorms and fuses ReLUs in place; `aliases` maps each removed layer to its survivor. */
export function foldAndFuse(
  graph: LayerGraph,
  weights: WeightStore,
): { folded: string[]; aliases: Map<string, string> } {
  const aliases = new Map<string, string>();
  const folded = foldBatchNorms(graph, weights, aliases);
  fuseActivations(graph, aliases);
  return { folded, aliases };
}

/** Layer outputs that get their own quantization parameters (everything but same-scale layers). */
export function quantizationPoints(graph: LayerGraph): string[] {
  return graph.nodes.filter((n) => !PASS_THROUGH_LAYERS.has(n.className)).map((n) => n.name);
}

function inputShapeOf(node: LayerNode): (number | null)[] {
  const shape = node.config.batch_input_shape;
  if (!Array.isArray(shape))
    throw new ZeropointError("invalid-model", `input layer ${node.name} has no batch_input_shape`);
  return shape as (number | null)[];
}

function toBatch(
  item: tf.Tensor | Float32Array,
  shape: (number | null)[],
  index: number,
  inputName: string,
): tf.Tensor {
  const inner = shape.slice(1) as number[];
  const per = inner.reduce((a, b) => a * (b ?? 1), 1);
  const describe = `[${shape.map((d) => d ?? "batch").join(", ")}]`;
  if (item instanceof Float32Array) {
    if (item.length === 0 || item.length % per !== 0) {
      throw new ZeropointError(
        "invalid-calibration-data",
        `calibration batch ${index} has ${item.length} values, not a multiple of ${per} (model input ${inputName} is ${describe})`,
        { details: { batch: index, input: inputName } },
      );
    }
    return tf.tensor(item, [item.length / per, ...inner], "float32");
  }
  const ok = item.rank === shape.length && item.shape.slice(1).every((d, i) => inner[i] === null || d === inner[i]);
  if (!ok || item.shape[0] === 0) {
    throw new ZeropointError(
      "invalid-calibration-data",
      `calibration batch ${index} has shape [${item.shape.join(", ")}], model input ${inputName} expects ${describe}`,
      { details: { batch: index, input: inputName } },
    );
  }
  return item.dtype === "float32" ? tf.clone(item) : tf.cast(item, "float32");
}

function checkFinite(values: Float32Array, where: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i] as number)) {
      throw new ZeropointError("non-finite-data", `${where}: element ${i} is ${values[i]}`, { details: { index: i } });
    }
  }
}

/**
 * Runs calibration batches through the (folded) float model and streams every quantization point's
 * output into its own core observer; memory does not grow with the number of batches.
 */
export async function calibrate(
  graph: LayerGraph,
  weights: WeightStore,
  batches: CalibrationBatches,
  kind: ObserverKind = "minmax",
  onProgress?: (batches: number, samples: number) => void,
): Promise<ActivationRanges> {
  if (graph.inputs.length !== 1) {
    throw new ZeropointError(
      "unsupported-op",
      `calibration supports one model input, this model has ${graph.inputs.length}`,
    );
  }
  const inputNode = graph.nodes.find((n) => n.name === graph.inputs[0]) as LayerNode;
  const shape = inputShapeOf(inputNode);
  const points = quantizationPoints(graph).filter((p) => p !== inputNode.name);
  const float = await materialize(graph, weights);
  const probe = tfl.model({
    inputs: float.inputs,
    outputs: points.map((p) => float.getLayer(p).output as tfl.SymbolicTensor),
  });
  const observers = new Map<string, Observer>(
    [inputNode.name, ...points].map((p) => [p, createObserver(kind, { dtype: "uint8" })]),
  );
  for (let pass = 0; pass < (observers.get(inputNode.name) as Observer).passes; pass++) {
    let index = 0;
    let samples = 0;
    for await (const item of batches as AsyncIterable<tf.Tensor | Float32Array>) {
      const x = toBatch(item, shape, index, inputNode.name);
      const data = x.dataSync() as Float32Array;
      checkFinite(data, `calibration batch ${index}`);
      (observers.get(inputNode.name) as Observer).observe(data);
      const outputs = tf.tidy(() => {
        const out = probe.predict(x);
        return Array.isArray(out) ? out : [out];
      });
      for (const [k, p] of points.entries()) {
        const t = outputs[k] as tf.Tensor;
        (observers.get(p) as Observer).observe(t.dataSync() as Float32Array);
      }
      tf.dispose([x, ...outputs]);
      index++;
      samples += x.shape[0] as number;
      onProgress?.(index, samples);
    }
    if (index === 0) throw new ZeropointError("empty-data", "the calibration set is empty");
    for (const o of observers.values()) if (o.passes === 2 && pass === 0) o.nextPass();
  }
  probe.dispose?.();
  const ranges: ActivationRanges = new Map();
  for (const [p, o] of observers) {
    const r = o.range();
    ranges.set(p, { min: r.min[0] as number, max: r.max[0] as number });
  }
  return ranges;
}

/**
 * Builds the fake-quantized model and the parameter JSON from a prepared graph, its float weights
 * and activation ranges: kernels fake-quantized (TFMOT scheme: symmetric narrow int8, per channel
 * for convolutions, per tensor for Dense), a `ZeropointFakeQuant` layer (uint8, tflite convention)
 * after every quantization point, biases float.
 */
export async function buildQuantizedModel(
  graph: LayerGraph,
  weights: WeightStore,
  ranges: ActivationRanges,
  config: WeightQuantConfig = {},
  folded: string[] = [],
): Promise<QuantizedModel> {
  const qgraph: LayerGraph = {
    name: `${graph.name}_quantized`,
    nodes: graph.nodes.map((n) => ({ ...n, config: { ...n.config }, inbound: [...n.inbound] })),
    inputs: [...graph.inputs],
    outputs: [...graph.outputs],
  };
  const qweights: WeightStore = new Map(weights);
  const tensors: Record<string, TensorQParams> = {};
  const layers: QuantizationParameters["layers"] = [];
  for (const node of graph.nodes) {
    const entry = {
      name: node.name,
      className: node.className,
      inputs: [...node.inbound],
      output: node.name,
      config: { ...node.config },
    };
    if (KERNEL_LAYERS.has(node.className)) {
      const own = weights.get(node.name);
      const kernel = own?.[0];
      if (kernel === undefined)
        throw new ZeropointError("invalid-model", `layer ${node.name} has no kernel`, {
          details: { layer: node.name },
        });
      const { qparams, view } = kernelQParams(node.className, kernel.values, kernel.shape, config);
      const { values } = quantizeKernel(kernel.values, qparams, view);
      qweights.set(node.name, [{ values, shape: kernel.shape }, ...(own?.slice(1) ?? [])]);
      tensors[`${node.name}/kernel`] = toTensorQParams(qparams, view);
      layers.push({ ...entry, kernel: `${node.name}/kernel`, hasBias: (own?.length ?? 0) > 1 });
    } else {
      layers.push(entry);
    }
    if (PASS_THROUGH_LAYERS.has(node.className)) {
      const source = tensors[node.inbound[0] as string];
      if (source === undefined)
        throw new ZeropointError("invalid-state", `no quantization parameters for the input of ${node.name}`);
      tensors[node.name] = source;
      continue;
    }
    const range = ranges.get(node.name);
    if (range === undefined) {
      throw new ZeropointError("observer-not-ready", `no activation range for layer ${node.name}`, {
        details: { layer: node.name },
      });
    }
    tensors[node.name] = toTensorQParams(activationQParams(range.min, range.max));
    const fq = `${node.name}_quant`;
    insertAfter(qgraph, node.name, {
      name: fq,
      className: FakeQuantLayer.className,
      config: {
        name: fq,
        trainable: false,
        qmin: 0,
        qmax: 255,
        freezeAfterSteps: 0,
        rangeMin: range.min,
        rangeMax: range.max,
      },
      inbound: [],
    });
  }
  const model = await materialize(qgraph, qweights);
  for (const node of qgraph.nodes) {
    if (node.className !== FakeQuantLayer.className) continue;
    const layer = model.getLayer(node.name) as FakeQuantLayer;
    const min = node.config.rangeMin as number;
    const max = node.config.rangeMax as number;
    layer.setWeights([tf.scalar(min), tf.scalar(max), tf.scalar(1)]);
  }
  const parameters: QuantizationParameters = {
    format: "zeropoint-tfjs-qparams",
    version: 1,
    convention: "tflite",
    model: graph.name,
    inputs: [...graph.inputs],
    outputs: [...graph.outputs],
    tensors,
    layers,
  };
  return { model, parameters, foldedBatchNorms: folded };
}

/**
 * Post-training static quantization, emulated in float (TFMOT's 8-bit scheme): folds BatchNorm into
 * the preceding convolution, fuses ReLUs, calibrates activation ranges on `calibration` with a core
 * observer, and returns the fake-quantized model plus the exported quantization parameters.
 * The input model is not modified.
 */
export async function quantizeStatic(model: tfl.LayersModel, options: StaticQuantizeOptions): Promise<QuantizedModel> {
  const { graph, weights, folded } = prepareGraph(model);
  const ranges = await calibrate(graph, weights, options.calibration, options.observer ?? "minmax", options.onProgress);
  return buildQuantizedModel(graph, weights, ranges, options.weights, folded);
}
