import { dtypeInfo, type QuantDtype } from "../dtype/dtype.js";
import { ZeropointError } from "../errors/zeropoint-error.js";

/** How many quantization parameter sets a tensor gets. */
export type Granularity = "per-tensor" | "per-channel" | "per-group";

/**
 * Whose arithmetic to reproduce. The anchors disagree in small but visible ways (float32 vs float64
 * scale math, which integer range symmetric mode uses, rounding of ties, TF's zero-point nudging),
 * so a cross-framework comparison has to be able to pick one.
 */
export type QuantConvention = "pytorch" | "onnxruntime" | "tflite";

/** All conventions. */
export const QUANT_CONVENTIONS: readonly QuantConvention[] = ["pytorch", "onnxruntime", "tflite"];

/** What integer grid a tensor is mapped onto. */
export interface QuantScheme {
  readonly dtype: QuantDtype;
  /** Symmetric (zero point fixed at the middle of the range) instead of affine. Default false. */
  readonly symmetric?: boolean;
  /** Default `per-tensor`. */
  readonly granularity?: Granularity;
  /** Channel axis for per-channel, blocked axis for per-group. Negative counts from the end. */
  readonly axis?: number;
  /** Block length along `axis` for per-group. */
  readonly groupSize?: number;
  /** Use one bit less (PyTorch's x86 `reduce_range`, onnxruntime's reduced tables). */
  readonly reduceRange?: boolean;
  /** Drop the most negative code (int8 -127..127), as TFLite weights and onnxruntime symmetric tables do. */
  readonly narrowRange?: boolean;
  /** Custom integer range inside the dtype (PyTorch `quant_min`), e.g. -2 for 2-bit stored as int8. */
  readonly quantMin?: number;
  /** Custom integer range inside the dtype (PyTorch `quant_max`). */
  readonly quantMax?: number;
}

/** The integer range a scheme quantizes into. */
export interface QuantRange {
  readonly qmin: number;
  readonly qmax: number;
}

const ORT_REDUCED: Partial<Record<QuantDtype, QuantRange>> = {
  uint8: { qmin: 0, qmax: 127 },
  int8: { qmin: -64, qmax: 64 },
  uint16: { qmin: 0, qmax: 32767 },
  int16: { qmin: -16384, qmax: 16384 },
  uint4: { qmin: 0, qmax: 7 },
  int4: { qmin: -4, qmax: 3 },
};
const ORT_SYMMETRIC: Partial<Record<QuantDtype, QuantRange>> = {
  uint8: { qmin: 0, qmax: 254 },
  int8: { qmin: -127, qmax: 127 },
  uint16: { qmin: 0, qmax: 65534 },
  int16: { qmin: -32767, qmax: 32767 },
};

/**
 * Resolves the integer range for a scheme under a convention.
 *
 * - `pytorch` (`calculate_qmin_qmax`): full dtype range; `reduceRange` halves it with floor division
 *   (uint8 0..127, int8 -64..63), also a custom range.
 * - `onnxruntime` (`get_qmin_qmax_for_qType`): reduced table if `reduceRange`, else the symmetric
 *   (narrow) table when symmetric, else full.
 * - `tflite`: full range; `narrowRange` drops the lowest code (weights use -127..127).
 */
export function resolveQuantRange(scheme: QuantScheme, convention: QuantConvention = "pytorch"): QuantRange {
  const info = dtypeInfo(scheme.dtype);
  const hasCustom = scheme.quantMin !== undefined || scheme.quantMax !== undefined;
  if (hasCustom) {
    const qmin = scheme.quantMin;
    const qmax = scheme.quantMax;
    if (qmin === undefined || qmax === undefined || !Number.isInteger(qmin) || !Number.isInteger(qmax)) {
      throw new ZeropointError("invalid-argument", "quantMin and quantMax must both be given as integers");
    }
    if (!(qmin <= 0 && 0 <= qmax && qmin < qmax)) {
      throw new ZeropointError(
        "invalid-argument",
        `custom quant range must satisfy quantMin <= 0 <= quantMax and quantMin < quantMax, got ${qmin}..${qmax}`,
      );
    }
    if (qmin < info.min || qmax > info.max) {
      throw new ZeropointError(
        "invalid-argument",
        `custom quant range ${qmin}..${qmax} does not fit in ${scheme.dtype} (${info.min}..${info.max})`,
      );
    }
    let range = { qmin, qmax };
    if (scheme.reduceRange) range = { qmin: Math.floor(qmin / 2), qmax: Math.floor(qmax / 2) };
    if (scheme.narrowRange && info.signed && range.qmin === info.min) range = { ...range, qmin: range.qmin + 1 };
    return range;
  }
  if (convention === "onnxruntime") {
    if (scheme.reduceRange) return ORT_REDUCED[scheme.dtype] ?? halve(info.min, info.max);
    if (scheme.symmetric || scheme.narrowRange) {
      return ORT_SYMMETRIC[scheme.dtype] ?? narrow(info.min, info.max, info.signed, scheme.narrowRange === true);
    }
    return { qmin: info.min, qmax: info.max };
  }
  let range: QuantRange = scheme.reduceRange ? halve(info.min, info.max) : { qmin: info.min, qmax: info.max };
  if (scheme.narrowRange) range = narrow(range.qmin, range.qmax, info.signed, true);
  return range;
}

function halve(min: number, max: number): QuantRange {
  return { qmin: Math.floor(min / 2), qmax: Math.floor(max / 2) };
}

function narrow(min: number, max: number, signed: boolean, apply: boolean): QuantRange {
  if (!apply) return { qmin: min, qmax: max };
  return signed ? { qmin: min + 1, qmax: max } : { qmin: min, qmax: max - 1 };
}

/** Normalises a possibly negative axis against a rank; throws `invalid-axis`. */
export function normalizeAxis(axis: number, rank: number): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new ZeropointError("invalid-axis", `axis ${axis} is out of range for a tensor of rank ${rank}`);
  }
  return axis < 0 ? axis + rank : axis;
}
