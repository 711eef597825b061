import { ZeropointError } from "../errors/zeropoint-error.js";

/**
 * Signal-to-quantization-noise ratio in dB, `20 log10(||x|| / ||x - y||)` (onnxruntime's
 * `compute_signal_to_quantization_noice_ratio`). Identical inputs give `+Infinity`.
 */
export function sqnr(reference: ArrayLike<number>, approximation: ArrayLike<number>): number {
  if (reference.length !== approximation.length) {
    throw new ZeropointError("shape-mismatch", `sqnr: ${reference.length} vs ${approximation.length} elements`);
  }
  if (reference.length === 0) throw new ZeropointError("empty-data", "sqnr of empty tensors");
  let signal = 0;
  let noise = 0;
  for (let i = 0; i < reference.length; i++) {
    const x = reference[i] as number;
    const d = x - (approximation[i] as number);
    signal += x * x;
    noise += d * d;
  }
  if (!Number.isFinite(signal) || !Number.isFinite(noise))
    throw new ZeropointError("non-finite-data", "sqnr: non-finite input");
  if (noise === 0) return Number.POSITIVE_INFINITY;
  return 10 * Math.log10(signal / noise);
}
