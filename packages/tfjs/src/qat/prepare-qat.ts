import type * as tfl from "@tensorflow/tfjs-layers";
import { ZeropointError } from "@zeropoint/core";
import { FakeQuantLayer } from "../fake-quant/fake-quant-layer.js";
import { bypassNode, consumersOf, insertAfter, type LayerGraph, type LayerNode } from "../graph/layer-graph.js";
import type { WeightStore } from "../static/fold-batch-norm.js";
import { materialize, modelGraph } from "../static/model-graph.js";
import {
  type ActivationRanges,
  buildQuantizedModel,
  foldAndFuse,
  type QuantizedModel,
  quantizationPoints,
} from "../static/quantize-static.js";
import { KERNEL_LAYERS, type WeightQuantConfig } from "../static/weight-scheme.js";
import { QuantKernelLayer } from "./quant-kernel-layer.js";

/** Options for {@link prepareQat}. */
export interface QatConfig {
  /** Weight scheme (bits or a custom range, per-channel switches); default TFMOT 8-bit. */
  readonly weights?: WeightQuantConfig;
  /** Moving-average decay of activation ranges; default 0.999 (TFMOT). */
  readonly emaDecay?: number;
  /** Freeze every activation observer after this many training steps; default never. */
  readonly freezeObserversAfterSteps?: number | null;
}

function snakeCase(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = v;
  return out;
}

function cloneGraph(graph: LayerGraph): LayerGraph {
  return {
    name: graph.name,
    nodes: graph.nodes.map((n) => ({ ...n, config: { ...n.config }, inbound: [...n.inbound] })),
    inputs: [...graph.inputs],
    outputs: [...graph.outputs],
  };
}

/** For each quantization point of the folded graph, the original layer whose output it is. */
function pointEnds(graph: LayerGraph, weights: WeightStore): string[] {
  const folded = cloneGraph(graph);
  const { aliases } = foldAndFuse(folded, new Map(weights));
  return quantizationPoints(folded).map((p) => {
    const members = new Set([p, ...[...aliases].filter(([, to]) => to === p).map(([from]) => from)]);
    const ends = [...members].filter((m) => !consumersOf(graph, m).some((c) => members.has(c.name)));
    return ends[0] as string;
  });
}

/**
 * Prepares a LayersModel for quantization-aware training, following TFMOT's default 8-bit scheme:
 * every Conv2D/DepthwiseConv2D/Dense becomes a {@link QuantKernelLayer} (fake-quantized kernel,
 * straight-through gradients), and a {@link FakeQuantLayer} (moving-average uint8 range, starting
 * from the first batch) follows every quantization point — after the BatchNorm/ReLU that a
 * convolution will absorb, never between them (TFMOT's `Conv2DBatchNormQuantize`). BatchNorm stays
 * unfolded while training and is folded by {@link convertQat}.
 *
 * Train the result with the usual `compile` and `fit`; the input model is not modified.
 */
export async function prepareQat(model: tfl.LayersModel, config: QatConfig = {}): Promise<tfl.LayersModel> {
  const { graph, weights } = modelGraph(model);
  const ends = pointEnds(graph, weights);
  const qat = cloneGraph(graph);
  for (const node of qat.nodes) {
    if (!KERNEL_LAYERS.has(node.className)) continue;
    const wrapped = { ...node.config };
    node.config = {
      name: node.name,
      trainable: node.config.trainable ?? true,
      wrapped_class: node.className,
      wrapped_config: wrapped,
      weight_quant: snakeCase({ ...(config.weights ?? {}) }),
    };
    (node as { className: string }).className = QuantKernelLayer.className;
  }
  for (const end of ends) {
    const name = `${end}_quant`;
    insertAfter(qat, end, {
      name,
      className: FakeQuantLayer.className,
      config: {
        name,
        trainable: false,
        qmin: 0,
        qmax: 255,
        ema_decay: config.emaDecay ?? 0.999,
        freeze_after_steps: config.freezeObserversAfterSteps ?? null,
      },
      inbound: [],
    });
  }
  return materialize({ ...qat, name: `${graph.name}_qat` }, weights);
}

/** Stops (or resumes, with `null`) range updates of every fake-quant layer after `steps` steps. */
export function freezeObservers(model: tfl.LayersModel, steps: number | null = 0): void {
  for (const layer of model.layers) {
    if (layer instanceof FakeQuantLayer) layer.freezeAfterSteps = steps === 0 ? layer.stepCount() : steps;
  }
}

/**
 * Converts a trained QAT model into the same artifacts as static quantization: restores the float
 * layers, folds BatchNorm into the kernels, re-quantizes the folded kernels and takes each
 * activation's range from its fake-quant layer.
 */
export async function convertQat(model: tfl.LayersModel): Promise<QuantizedModel> {
  const { graph, weights } = modelGraph(model, [QuantKernelLayer.className, FakeQuantLayer.className]);
  const raw: ActivationRanges = new Map();
  let weightConfig: WeightQuantConfig | undefined;
  for (const node of [...graph.nodes]) {
    if (node.className === FakeQuantLayer.className) {
      const range = (model.getLayer(node.name) as FakeQuantLayer).range();
      if (range === undefined) {
        throw new ZeropointError(
          "observer-not-ready",
          `fake-quant layer ${node.name} never observed data; train before converting`,
          {
            details: { layer: node.name },
          },
        );
      }
      raw.set(node.inbound[0] as string, range);
      weights.delete(node.name);
      bypassNode(graph, node);
    } else if (node.className === QuantKernelLayer.className) {
      const layer = model.getLayer(node.name) as QuantKernelLayer;
      const restored = node as LayerNode & { className: string };
      restored.className = layer.wrappedClass;
      restored.config = { ...(node.config.wrapped_config as Record<string, unknown>), name: node.name };
      weightConfig = layer.weightQuant;
    }
  }
  const { folded, aliases } = foldAndFuse(graph, weights);
  const ranges: ActivationRanges = new Map();
  for (const [name, range] of raw) {
    let target = name;
    while (aliases.has(target)) target = aliases.get(target) as string;
    ranges.set(target, range);
  }
  const result = await buildQuantizedModel(
    { ...graph, name: graph.name.replace(/_qat$/, "") },
    weights,
    ranges,
    weightConfig,
    folded,
  );
  return result;
}
