import { ZeropointError } from "../errors/zeropoint-error.js";

const f32 = Math.fround;

/**
 * ONNX `DynamicQuantizeLinear` as onnxruntime computes it: range widened to include 0,
 * `scale = (max - min) / 255` in float32 (1 when the range is empty), zero point
 * `round_half_even(clamp(0 - min / scale, 0, 255))`, `y = clamp(round_half_even(x / scale) + zp)`.
 */
export function dynamicQuantizeLinear(x: Float32Array): { y: Uint8Array; scale: number; zeroPoint: number } {
  let min = 0;
  let max = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i] as number;
    if (v - v !== 0)
      throw new ZeropointError("non-finite-data", `input element ${i} is ${v}`, { details: { index: i } });
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const scale = max === min ? 1 : f32(f32(max - min) / 255);
  const initial = f32(0 - f32(min / scale));
  const clamped = Math.max(0, Math.min(255, initial));
  let zeroPoint = Math.round(clamped);
  if (zeroPoint - clamped === 0.5 && (zeroPoint & 1) !== 0) zeroPoint -= 1;
  const y = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = f32((x[i] as number) / scale);
    let r = Math.round(v);
    if (r - v === 0.5 && (r & 1) !== 0) r -= 1;
    const q = r + zeroPoint;
    y[i] = q < 0 ? 0 : q > 255 ? 255 : q;
  }
  return { y, scale, zeroPoint };
}
