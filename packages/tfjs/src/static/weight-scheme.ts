import { computeQParams, fakeQuantize, type QParams, ZeropointError } from "@zeropoint/core";

/** How weights are quantized; defaults are TFMOT's 8-bit scheme. */
export interface WeightQuantConfig {
  /**
   * Bit width of the symmetric narrow grid, `-(2^(b-1) - 1) .. 2^(b-1) - 1` (8 → -127..127,
   * 4 → -7..7, 3 → -3..3, 2 → -1..1). Default 8. Ignored when `quantMin`/`quantMax` are given.
   */
  readonly bits?: number;
  /** A custom integer range inside int8 (core's custom quant range), e.g. -4..3. */
  readonly quantMin?: number;
  readonly quantMax?: number;
  /** Per-channel Conv2D/DepthwiseConv2D kernels; default true (TFMOT `Default8BitConvWeightsQuantizer`). */
  readonly perChannelConv?: boolean;
  /** Per-channel Dense kernels; default false (TFMOT `LastValueQuantizer`, per tensor). */
  readonly perChannelDense?: boolean;
}

/** Layers whose kernels are quantized. */
export const KERNEL_LAYERS = new Set(["Conv2D", "DepthwiseConv2D", "Dense"]);

/** The integer range of a weight config. */
export function weightRange(config: WeightQuantConfig = {}): { qmin: number; qmax: number } {
  if (config.quantMin !== undefined || config.quantMax !== undefined) {
    if (config.quantMin === undefined || config.quantMax === undefined) {
      throw new ZeropointError("invalid-argument", "quantMin and quantMax must be given together");
    }
    return { qmin: config.quantMin, qmax: config.quantMax };
  }
  const bits = config.bits ?? 8;
  if (!Number.isInteger(bits) || bits < 2 || bits > 8) {
    throw new ZeropointError("invalid-argument", `weight bits must be an integer in 2..8, got ${bits}`);
  }
  const q = 2 ** (bits - 1) - 1;
  return { qmin: -q, qmax: q };
}

/**
 * The shape a kernel is quantized in: channels on the last axis. Conv2D `[kh, kw, ci, co]` and Dense
 * `[in, out]` already are; DepthwiseConv2D `[kh, kw, ci, mult]` has output channel `ci·mult + m`,
 * which is the flattened last two axes (TFLite quantizes its `[1, kh, kw, ci·mult]` filter on dim 3).
 */
export function channelView(className: string, shape: readonly number[]): number[] {
  if (className === "DepthwiseConv2D") {
    const [kh, kw, ci, m] = shape as [number, number, number, number];
    return [kh * kw, ci * m];
  }
  return [...shape];
}

/** Symmetric int8 qparams of a kernel (tflite convention: TFMOT's range, TF's nudging). */
export function kernelQParams(
  className: string,
  kernel: Float32Array,
  shape: readonly number[],
  config: WeightQuantConfig = {},
): { qparams: QParams; view: number[] } {
  const view = channelView(className, shape);
  const perChannel = className === "Dense" ? (config.perChannelDense ?? false) : (config.perChannelConv ?? true);
  const { qmin, qmax } = weightRange(config);
  const channels = perChannel ? (view[view.length - 1] as number) : 1;
  const lo = new Float32Array(channels).fill(0);
  const hi = new Float32Array(channels).fill(0);
  for (let i = 0; i < kernel.length; i++) {
    const c = perChannel ? i % channels : 0;
    const v = kernel[i] as number;
    if (!Number.isFinite(v)) {
      throw new ZeropointError("non-finite-data", `kernel element ${i} is not finite`, { details: { index: i } });
    }
    if (v < (lo[c] as number)) lo[c] = v;
    if (v > (hi[c] as number)) hi[c] = v;
  }
  const qparams = computeQParams(lo, hi, {
    scheme: {
      dtype: "int8",
      symmetric: true,
      narrowRange: true,
      quantMin: qmin,
      quantMax: qmax,
      ...(perChannel ? { granularity: "per-channel" as const, axis: view.length - 1 } : {}),
    },
    convention: "tflite",
  });
  return { qparams, view };
}

/** Fake-quantized kernel values and their integers (which lie on the grid exactly). */
export function quantizeKernel(
  kernel: Float32Array,
  qparams: QParams,
  view: readonly number[],
): { values: Float32Array; ints: Int8Array } {
  const { output } = fakeQuantize(kernel, qparams, { shape: view, convention: "tflite" });
  const ints = new Int8Array(output.length);
  const channels = qparams.scale.length;
  for (let i = 0; i < output.length; i++) {
    const c = channels === 1 ? 0 : i % channels;
    ints[i] = Math.round((output[i] as number) / (qparams.scale[c] as number)) + (qparams.zeroPoint[c] as number);
  }
  return { values: output, ints };
}
