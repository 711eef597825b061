import { ZeropointError } from "../errors/zeropoint-error.js";

const f32 = Math.fround;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const TWO_31 = 2147483648;

/** Target integer range of a requantization. */
export interface RequantizeTarget {
  readonly zeroPoint: number;
  readonly qmin: number;
  readonly qmax: number;
}

/**
 * Requantizes int32 accumulators with a float multiplier (onnxruntime/MLAS style):
 * `clamp(nearbyint(float(acc) * multiplier) + zp, qmin, qmax)`, in float32, ties to even.
 * `multiplier` is one number, or one per channel where channel = `floor(i / channelStride) % length`.
 */
export function requantizeFloat(
  acc: Int32Array,
  multiplier: number | Float32Array,
  target: RequantizeTarget,
  out: Int8Array | Uint8Array | Int16Array | Uint16Array,
  channelStride = 1,
): void {
  if (out.length !== acc.length)
    throw new ZeropointError("shape-mismatch", `output has ${out.length} elements, input ${acc.length}`);
  const { zeroPoint, qmin, qmax } = target;
  if (typeof multiplier === "number") {
    const m = f32(multiplier);
    for (let i = 0; i < acc.length; i++) {
      const v = f32(f32(acc[i] as number) * m);
      let r = Math.round(v);
      if (r - v === 0.5 && (r & 1) !== 0) r -= 1;
      const q = r + zeroPoint;
      out[i] = q < qmin ? qmin : q > qmax ? qmax : q;
    }
    return;
  }
  const channels = multiplier.length;
  for (let i = 0; i < acc.length; i++) {
    const m = multiplier[Math.floor(i / channelStride) % channels] as number;
    const v = f32(f32(acc[i] as number) * m);
    let r = Math.round(v);
    if (r - v === 0.5 && (r & 1) !== 0) r -= 1;
    const q = r + zeroPoint;
    out[i] = q < qmin ? qmin : q > qmax ? qmax : q;
  }
}

/** A real multiplier as gemmlowp/TFLite store it: `multiplier * 2^(shift - 31)`. */
export interface QuantizedMultiplier {
  /** Q0.31 fixed point in [2^30, 2^31), or 0. */
  readonly multiplier: number;
  /** Power-of-two exponent; positive shifts left. */
  readonly shift: number;
}

/** TFLite `QuantizeMultiplier`: splits a positive real into a Q0.31 mantissa and an exponent. */
export function quantizeMultiplier(real: number): QuantizedMultiplier {
  if (!(real >= 0) || !Number.isFinite(real)) {
    throw new ZeropointError("invalid-argument", `multiplier must be finite and >= 0, got ${real}`);
  }
  if (real === 0) return { multiplier: 0, shift: 0 };
  // frexp: real = q * 2^shift with q in [0.5, 1).
  let shift = Math.floor(Math.log2(real)) + 1;
  let q = real / 2 ** shift;
  while (q >= 1) {
    q /= 2;
    shift++;
  }
  while (q < 0.5) {
    q *= 2;
    shift--;
  }
  let qFixed = Math.round(q * TWO_31);
  if (qFixed === TWO_31) {
    qFixed /= 2;
    shift++;
  }
  if (shift < -31) return { multiplier: 0, shift: 0 };
  if (shift > 30)
    throw new ZeropointError("invalid-argument", `multiplier ${real} is too large for a Q0.31 representation`);
  return { multiplier: qFixed, shift };
}

/**
 * gemmlowp `SaturatingRoundingDoublingHighMul`: `(a * b + nudge) / 2^31` with truncation, computed
 * exactly without 64-bit integers (the product is split into exactly representable parts).
 */
export function saturatingRoundingDoublingHighMul(a: number, b: number): number {
  if (a === INT32_MIN && b === INT32_MIN) return INT32_MAX;
  const ah = a >> 16;
  const al = a & 0xffff;
  const bh = b >> 16;
  const bl = b & 0xffff;
  const high = ah * bh; // units of 2^32
  const mid = ah * bl + al * bh; // units of 2^16
  const low = al * bl;
  const negative = a < 0 !== b < 0 && a !== 0 && b !== 0;
  const nudge = negative ? 1 - 2 ** 30 : 2 ** 30;
  const rest = mid * 65536 + low + nudge; // |rest| < 2^50: exact
  const k = Math.floor(rest / TWO_31);
  const r = rest - k * TWO_31;
  const whole = 2 * high + k;
  // Truncation toward zero of whole + r / 2^31 with 0 <= r < 2^31.
  return whole < 0 && r > 0 ? whole + 1 : whole;
}

/** gemmlowp `RoundingDivideByPOT`: arithmetic shift right with round-half-away-from-zero. */
export function roundingDivideByPOT(x: number, exponent: number): number {
  if (exponent === 0) return x;
  const mask = (1 << exponent) - 1;
  const remainder = x & mask;
  const threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/** TFLite `MultiplyByQuantizedMultiplier`, bit-exact. */
export function multiplyByQuantizedMultiplier(x: number, multiplier: number, shift: number): number {
  const leftShift = shift > 0 ? shift : 0;
  const rightShift = shift > 0 ? 0 : -shift;
  const shifted = (x * 2 ** leftShift) | 0;
  return roundingDivideByPOT(saturatingRoundingDoublingHighMul(shifted, multiplier), rightShift);
}

/** Requantizes int32 accumulators with a fixed-point multiplier (TFLite/gemmlowp reference kernels). */
export function requantizeFixedPoint(
  acc: Int32Array,
  multiplier: QuantizedMultiplier,
  target: RequantizeTarget,
  out: Int8Array | Uint8Array | Int16Array | Uint16Array,
): void {
  if (out.length !== acc.length)
    throw new ZeropointError("shape-mismatch", `output has ${out.length} elements, input ${acc.length}`);
  const { zeroPoint, qmin, qmax } = target;
  for (let i = 0; i < acc.length; i++) {
    const q = multiplyByQuantizedMultiplier(acc[i] as number, multiplier.multiplier, multiplier.shift) + zeroPoint;
    out[i] = q < qmin ? qmin : q > qmax ? qmax : q;
  }
}
