import {
  type CalibrationSource,
  checkBuild,
  type IrNode,
  type LayerParams,
  type ModelBuild,
  type QuantizeVariant,
  singleFloat32Input,
  sqnr,
  type TensorRecord,
} from "@zeropoint/core";
import { noGrad, Tensor } from "../autograd/tensor.js";
import type { Module } from "../nn/module.js";

/** What executes torch builds. */
export const TORCH_RUNTIME = "@zeropoint/torch (fbgemm arithmetic in TypeScript)";

/** The one input of a module as a Tensor (the torch emulation runs single-input float models). */
export function inputTensor(inputs: TensorRecord): Tensor {
  const t = singleFloat32Input(inputs, "torch");
  return new Tensor(t.data, [...t.dims]);
}

type Callable = { call(x: Tensor): Tensor; namedModules(): Iterable<[string, Module]> };

/**
 * Bytes a quantized module tree stores as deployed: int8 weights, one scale and zero point (8
 * bytes) per scale, float32 biases. Read from the quantized modules' own fields.
 */
export function stateBytes(model: Callable): number {
  let bytes = 0;
  for (const [, mod] of model.namedModules()) {
    const w = (mod as { weight?: { int?: Int8Array; scale?: Float32Array } }).weight;
    if (w?.int instanceof Int8Array) bytes += w.int.length + 8 * (w.scale?.length ?? 1);
    const weightInt = (mod as { weightInt?: Int8Array }).weightInt;
    if (weightInt !== undefined) bytes += weightInt.length + 8;
    const bias = (mod as { bias?: { data?: Float32Array } | Float32Array }).bias;
    const biasData = bias instanceof Float32Array ? bias : bias?.data;
    if (biasData !== undefined) bytes += 4 * biasData.length;
  }
  return bytes;
}

/**
 * Output parameters of one quantized module (its `scale`/`zeroPoint`), and its weight SQNR: the
 * module's int8 weight dequantized with its per-output-channel scales against the IR's float weight.
 */
export function moduleLayerParams(module: unknown, node: IrNode): LayerParams | undefined {
  const m = module as { scale?: unknown; zeroPoint?: unknown; weight?: unknown } | undefined;
  if (typeof m?.scale !== "number" || typeof m.zeroPoint !== "number") return undefined;
  const w = m.weight as { int?: Int8Array; scale?: Float32Array; zeroPoint?: Int32Array } | undefined;
  const reference = node.weights.weight?.data;
  let weightSqnr: number | undefined;
  if (w?.int instanceof Int8Array && w.scale !== undefined && reference?.length === w.int.length) {
    const perChannel = reference.length / w.scale.length;
    const dequantized = new Float32Array(reference.length);
    for (let i = 0; i < dequantized.length; i++) {
      const c = Math.floor(i / perChannel);
      dequantized[i] = ((w.int[i] as number) - (w.zeroPoint?.[c] ?? 0)) * (w.scale[c] as number);
    }
    weightSqnr = sqnr(reference, dequantized);
  }
  // The grid the parameters were calibrated on: PyTorch's x86 qconfig computes quint8 activation
  // parameters on 0..127 (reduce_range), so that is where the calibrated range ends.
  return {
    scale: m.scale,
    zeroPoint: m.zeroPoint,
    qmin: 0,
    qmax: 127,
    ...(weightSqnr !== undefined ? { weightSqnr } : {}),
  };
}

/** A module tree as a {@link ModelBuild}. */
export function torchBuild(
  model: Callable,
  variant: QuantizeVariant | "float",
  parts: { sizeBytes: number; sizeNote?: string; layerParams?: Record<string, LayerParams> },
): ModelBuild {
  const build: ModelBuild = {
    framework: "torch",
    variant,
    runtime: variant === "float" ? "@zeropoint/torch Sequential" : TORCH_RUNTIME,
    predict: async (inputs) => noGrad(() => Float32Array.from(model.call(inputTensor(inputs)).data)),
    sizeBytes: () => parts.sizeBytes,
    ...(parts.sizeNote !== undefined ? { sizeNote: parts.sizeNote } : {}),
    layerParams: () => parts.layerParams ?? {},
    check: (reference: ModelBuild, data: CalibrationSource) => checkBuild(build, reference, data),
  };
  return build;
}
