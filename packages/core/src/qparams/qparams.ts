import type { QuantDtype } from "../dtype/dtype.js";
import { dtypeInfo } from "../dtype/dtype.js";
import { ZeropointError } from "../errors/zeropoint-error.js";
import { FLOAT32_EPS, FLOAT32_TINY, roundHalfAwayFromZero, roundHalfToEven } from "../numerics/rounding.js";
import { type QuantConvention, type QuantScheme, resolveQuantRange } from "../scheme/scheme.js";

/** Quantization parameters: one scale and zero point per tensor, channel or group. */
export interface QParams {
  readonly scale: Float32Array;
  readonly zeroPoint: Int32Array;
  readonly dtype: QuantDtype;
  readonly qmin: number;
  readonly qmax: number;
  /** Set for per-channel and per-group parameters. */
  readonly axis?: number;
  /** Set for per-group parameters: block length along `axis`. */
  readonly groupSize?: number;
}

/** Options for {@link computeQParams}. */
export interface ComputeQParamsOptions {
  readonly scheme: QuantScheme;
  /** Default `pytorch`. */
  readonly convention?: QuantConvention;
  /** PyTorch's minimum scale (`eps`); default float32 eps 2^-23. Ignored by other conventions. */
  readonly eps?: number;
  /** onnxruntime's `MinimumRealRange`: widen so that `rmax >= rmin + minRealRange`. */
  readonly minRealRange?: number;
}

const f32 = Math.fround;

/**
 * Computes scale and zero point for each (min, max) pair.
 *
 * `min`/`max` are equal-length arrays (one entry per tensor, channel or group). Conventions:
 * - `pytorch`: `UniformQuantizationObserverBase._calculate_qparams` in float32; range widened to
 *   include 0; symmetric scale `amax / ((qmax-qmin)/2)`, zero point 0 (128 for full-range uint8,
 *   the floored midpoint for a custom uint8 range, 2^15 for uint16); scale floored at `eps`.
 *   A never-observed range (min=+inf, max=-inf) gives scale 1, zero point 0 as PyTorch does.
 * - `onnxruntime`: `compute_scale_zp` — float32 range arithmetic, float64 scale, round half to even,
 *   symmetric zero point `round((qmin+qmax)/2)`, scale 1 / zero point 0 below float32 `tiny`.
 * - `tflite`: TensorFlow's `Nudge` on the unsigned grid (`quant_min` = 0, or 1 for narrow range),
 *   zero point rounded half away from zero; TFMOT's symmetric range `[-amax, amax]`.
 */
export function computeQParams(
  min: ArrayLike<number> | number,
  max: ArrayLike<number> | number,
  options: ComputeQParamsOptions,
): QParams {
  const mins = typeof min === "number" ? [min] : min;
  const maxs = typeof max === "number" ? [max] : max;
  if (mins.length !== maxs.length) {
    throw new ZeropointError("shape-mismatch", `min has ${mins.length} entries but max has ${maxs.length}`);
  }
  if (mins.length === 0) throw new ZeropointError("empty-data", "computeQParams needs at least one range");
  const convention = options.convention ?? "pytorch";
  const scheme = options.scheme;
  const { qmin, qmax } = resolveQuantRange(scheme, convention);
  const scale = new Float32Array(mins.length);
  const zeroPoint = new Int32Array(mins.length);
  const out = { scale: 0, zeroPoint: 0 };
  for (let i = 0; i < mins.length; i++) {
    const lo = mins[i] as number;
    const hi = maxs[i] as number;
    validateRange(lo, hi, i, convention);
    if (convention === "pytorch") pytorchQParams(lo, hi, qmin, qmax, scheme, options.eps ?? FLOAT32_EPS, out);
    else if (convention === "onnxruntime") onnxruntimeQParams(lo, hi, qmin, qmax, scheme, options.minRealRange, out);
    else tfliteQParams(lo, hi, qmin, qmax, scheme, out);
    scale[i] = out.scale;
    zeroPoint[i] = out.zeroPoint;
  }
  const result: QParams = { scale, zeroPoint, dtype: scheme.dtype, qmin, qmax };
  const granularity = scheme.granularity ?? "per-tensor";
  if (granularity !== "per-tensor") {
    return {
      ...result,
      axis: scheme.axis ?? 0,
      ...(granularity === "per-group" && scheme.groupSize !== undefined ? { groupSize: scheme.groupSize } : {}),
    };
  }
  return result;
}

function validateRange(lo: number, hi: number, index: number, convention: QuantConvention): void {
  if (Number.isNaN(lo) || Number.isNaN(hi)) {
    throw new ZeropointError("non-finite-data", `range ${index} is NaN`, { details: { index } });
  }
  // PyTorch's "never observed" sentinel is handled by the pytorch routine itself.
  if (convention === "pytorch" && lo === Number.POSITIVE_INFINITY && hi === Number.NEGATIVE_INFINITY) return;
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
    throw new ZeropointError("non-finite-data", `range ${index} is not finite: [${lo}, ${hi}]`, { details: { index } });
  }
  if (lo > hi) throw new ZeropointError("invalid-range", `range ${index} has min ${lo} > max ${hi}`);
}

function pytorchQParams(
  lo: number,
  hi: number,
  qmin: number,
  qmax: number,
  scheme: QuantScheme,
  eps: number,
  out: { scale: number; zeroPoint: number },
): void {
  if (lo === Number.POSITIVE_INFINITY && hi === Number.NEGATIVE_INFINITY) {
    out.scale = 1;
    out.zeroPoint = 0;
    return;
  }
  const epsF = f32(eps);
  const minNeg = f32(Math.min(lo, 0));
  const maxPos = f32(Math.max(hi, 0));
  if (scheme.symmetric) {
    const amax = Math.max(-minNeg, maxPos);
    // (qmax - qmin) / 2 is a Python float, cast to float32 for the tensor division.
    let scale = f32(amax / f32((qmax - qmin) / 2));
    scale = Math.max(scale, epsF);
    out.scale = scale;
    const custom = scheme.quantMin !== undefined && scheme.quantMax !== undefined;
    if (scheme.dtype === "uint8") out.zeroPoint = custom ? Math.floor((qmin + qmax) / 2) : 128;
    else if (scheme.dtype === "uint16") out.zeroPoint = 2 ** 15;
    else if (scheme.dtype === "uint4") out.zeroPoint = custom ? Math.floor((qmin + qmax) / 2) : 8;
    else out.zeroPoint = 0;
    return;
  }
  let scale = f32(f32(maxPos - minNeg) / (qmax - qmin));
  scale = Math.max(scale, epsF);
  const zp = qmin - roundHalfToEven(f32(minNeg / scale));
  out.scale = scale;
  out.zeroPoint = Math.min(Math.max(zp, qmin), qmax);
}

function onnxruntimeQParams(
  lo: number,
  hi: number,
  qmin: number,
  qmax: number,
  scheme: QuantScheme,
  minRealRange: number | undefined,
  out: { scale: number; zeroPoint: number },
): void {
  let rmin = f32(Math.min(lo, 0));
  let rmax = f32(Math.max(hi, 0));
  if (minRealRange !== undefined) rmax = Math.max(rmax, f32(rmin + f32(minRealRange)));
  if (scheme.symmetric) {
    const absmax = Math.max(Math.abs(rmin), Math.abs(rmax));
    rmin = -absmax;
    rmax = absmax;
  }
  // rmax - rmin is a float32 subtraction; the division happens in float64.
  const scale64 = f32(rmax - rmin) / (qmax - qmin);
  if (scale64 < FLOAT32_TINY) {
    out.scale = 1;
    out.zeroPoint = 0;
    return;
  }
  out.zeroPoint = scheme.symmetric ? roundHalfToEven((qmin + qmax) / 2) : roundHalfToEven(qmin - rmin / scale64);
  out.scale = f32(scale64);
}

function tfliteQParams(
  lo: number,
  hi: number,
  qmin: number,
  qmax: number,
  scheme: QuantScheme,
  out: { scale: number; zeroPoint: number },
): void {
  let rmin = f32(Math.min(lo, 0));
  let rmax = f32(Math.max(hi, 0));
  if (scheme.symmetric) {
    // TFMOT: narrow range uses ratio -1; full range keeps the extra negative code.
    const bits = dtypeInfo(scheme.dtype).bits;
    const ratio = scheme.narrowRange ? -1 : -((2 ** bits - 2) / 2 ** bits);
    const newMin = Math.min(rmin, f32(rmax / ratio));
    const newMax = Math.max(rmax, f32(rmin * ratio));
    rmin = f32(newMin);
    rmax = f32(newMax);
  }
  // TF nudges on the unsigned grid; shift signed ranges there and back so ties round the same way.
  const offset = dtypeInfo(scheme.dtype).signed ? -dtypeInfo(scheme.dtype).min : 0;
  const uqmin = qmin + offset;
  const uqmax = qmax + offset;
  let scale = f32(f32(rmax - rmin) / f32(uqmax - uqmin));
  // TF asserts min < max; a degenerate or denormal range would give a zero scale. Fall back to
  // scale 1 like onnxruntime's `tiny` rule, so the result always quantizes.
  if (scale < FLOAT32_TINY) scale = 1;
  const zpFromMin = f32(uqmin - f32(rmin / scale));
  let nudged: number;
  if (zpFromMin < uqmin) nudged = uqmin;
  else if (zpFromMin > uqmax) nudged = uqmax;
  else nudged = roundHalfAwayFromZero(zpFromMin);
  out.scale = scale;
  out.zeroPoint = nudged - offset;
}

/** The float range `[(qmin - zp) * scale, (qmax - zp) * scale]` a parameter set can represent. */
export function representableRange(qparams: QParams, index = 0): { min: number; max: number } {
  const scale = qparams.scale[index];
  const zp = qparams.zeroPoint[index];
  if (scale === undefined || zp === undefined) {
    throw new ZeropointError("invalid-argument", `qparams have no entry ${index}`);
  }
  return { min: f32((qparams.qmin - zp) * scale), max: f32((qparams.qmax - zp) * scale) };
}
