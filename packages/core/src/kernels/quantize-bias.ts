import { ZeropointError } from "../errors/zeropoint-error.js";

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** Result of {@link quantizeBias}. */
export interface QuantizedBias {
  /** int32 bias values, zero point 0. */
  readonly values: Int32Array;
  /** `inputScale * weightScale[c]`, one per channel (or one). */
  readonly scale: Float32Array;
  /** How many values had to be clipped to the int32 range (their scale is too small). */
  readonly clipped: number;
}

/**
 * int32 bias for integer convolutions and GEMMs: `scale = inputScale * weightScale` (per output
 * channel when the weights are per-channel), `q = round_half_even(bias / scale)` in float64, clipped
 * to int32 as onnxruntime does since it warns "Quantized bias ... exceeds the range of a int32".
 */
export function quantizeBias(
  bias: Float32Array,
  inputScale: number,
  weightScale: number | Float32Array,
): QuantizedBias {
  const channels = typeof weightScale === "number" ? 1 : weightScale.length;
  if (channels !== 1 && channels !== bias.length) {
    throw new ZeropointError(
      "shape-mismatch",
      `bias has ${bias.length} entries but there are ${channels} weight scales`,
    );
  }
  if (!(inputScale > 0) || !Number.isFinite(inputScale)) {
    throw new ZeropointError("invalid-argument", `input scale must be positive and finite, got ${inputScale}`);
  }
  const scale = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    const ws = typeof weightScale === "number" ? weightScale : (weightScale[c] as number);
    if (!(ws > 0) || !Number.isFinite(ws))
      throw new ZeropointError("invalid-argument", `weight scale ${c} must be positive and finite, got ${ws}`);
    scale[c] = Math.fround(inputScale * ws);
  }
  const values = new Int32Array(bias.length);
  let clipped = 0;
  for (let i = 0; i < bias.length; i++) {
    const b = bias[i] as number;
    if (!Number.isFinite(b))
      throw new ZeropointError("non-finite-data", `bias element ${i} is ${b}`, { details: { index: i } });
    const s = scale[channels === 1 ? 0 : i] as number;
    const v = b / s;
    let r = Math.round(v);
    if (r - v === 0.5 && r % 2 !== 0) r -= 1;
    if (r < INT32_MIN || r > INT32_MAX) {
      clipped++;
      r = r < INT32_MIN ? INT32_MIN : INT32_MAX;
    }
    values[i] = r;
  }
  return { values, scale, clipped };
}
