import { ZeropointError } from "../errors/zeropoint-error.js";
import { roundHalfToEven } from "../numerics/rounding.js";

/** fp16's smallest normal number: fbgemm raises smaller scales to it. */
const SMALL_SCALE_THRESHOLD = 6.1e-5;

/**
 * `quant_utils::ChooseQuantizationParams` (identical to fbgemm's), the routine PyTorch uses for
 * dynamic quantization of activations and in its fused QAT op — not the observers' one:
 * range widened to include 0; `reduceRange` halves qmin/qmax; scale in float64 (0.1 when zero or
 * its reciprocal overflows), raised to 6.1e-5 with the range rescaled; the zero point comes from
 * whichever end (min or max) gives the smaller error, clamped and rounded with nearbyint.
 * `preserveSparsity` (symmetric) centres the zero point.
 */
export function chooseQuantizationParams(
  min: number,
  max: number,
  qmin: number,
  qmax: number,
  options: { reduceRange?: boolean; preserveSparsity?: boolean } = {},
): { scale: number; zeroPoint: number } {
  if (!Number.isFinite(min) || !Number.isFinite(max))
    throw new ZeropointError("non-finite-data", `range [${min}, ${max}] is not finite`);
  if (min > max) throw new ZeropointError("invalid-range", `min ${min} > max ${max}`);
  let lo = Math.fround(Math.min(min, 0));
  let hi = Math.fround(Math.max(max, 0));
  let q0 = qmin;
  let q1 = qmax;
  if (options.reduceRange) {
    q0 = Math.trunc(q0 / 2);
    q1 = Math.trunc(q1 / 2);
  }
  if (options.preserveSparsity && lo < 0 && hi > 0) {
    const symQmin = -((q1 - q0) / 2 + 1);
    const symQmax = (q1 - q0) / 2;
    const maxScale = Math.max(Math.abs(lo / symQmin), Math.abs(hi / symQmax));
    lo = Math.fround(maxScale * symQmin);
    hi = Math.fround(maxScale * symQmax);
  }
  let scale = (hi - lo) / (q1 - q0);
  if (Math.fround(scale) === 0 || !Number.isFinite(1 / Math.fround(scale))) scale = 0.1;
  if (scale < SMALL_SCALE_THRESHOLD) {
    const original = scale;
    scale = SMALL_SCALE_THRESHOLD;
    if (lo === 0) hi = Math.fround(SMALL_SCALE_THRESHOLD * (q1 - q0));
    else if (hi === 0) lo = Math.fround(-SMALL_SCALE_THRESHOLD * (q1 - q0));
    else {
      const amplifier = Math.fround(SMALL_SCALE_THRESHOLD / original);
      lo = Math.fround(lo * amplifier);
      hi = Math.fround(hi * amplifier);
    }
  }
  const fromMin = q0 - lo / scale;
  const fromMax = q1 - hi / scale;
  const fromMinError = Math.abs(q0) - Math.abs(lo / scale);
  const fromMaxError = Math.abs(q1) - Math.abs(hi / scale);
  let initial = fromMinError < fromMaxError ? fromMin : fromMax;
  if (options.preserveSparsity) initial = (q0 + q1) / 2;
  const zeroPoint = initial < q0 ? q0 : initial > q1 ? q1 : roundHalfToEven(initial);
  return { scale: Math.fround(scale), zeroPoint };
}
