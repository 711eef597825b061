import { ZeropointError } from "../errors/zeropoint-error.js";

/**
 * Min and max of each slice along `axis` of a row-major tensor, written into `min`/`max` (one
 * entry per channel, allocated when not given). A channel with no elements keeps +inf / -inf, so
 * callers decide what an empty range means (PyTorch's observers and onnxruntime differ). One pass,
 * no allocation per element: the shared kernel of the per-channel observers and weight quantizers.
 */
export function channelMinMax(
  data: ArrayLike<number>,
  shape: readonly number[],
  axis: number,
  min: Float64Array = new Float64Array(shape[axis] ?? 0),
  max: Float64Array = new Float64Array(shape[axis] ?? 0),
): { min: Float64Array; max: Float64Array } {
  if (axis < 0 || axis >= shape.length)
    throw new ZeropointError("invalid-argument", `channel axis ${axis} is outside a rank-${shape.length} tensor`);
  const channels = shape[axis] as number;
  let outer = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i] as number;
  let inner = 1;
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i] as number;
  if (outer * channels * inner !== data.length)
    throw new ZeropointError("shape-mismatch", `${data.length} values do not fill shape [${shape.join(", ")}]`);
  if (min.length !== channels || max.length !== channels)
    throw new ZeropointError("shape-mismatch", `min/max need ${channels} entries`);
  min.fill(Number.POSITIVE_INFINITY);
  max.fill(Number.NEGATIVE_INFINITY);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const base = (o * channels + c) * inner;
      let lo = min[c] as number;
      let hi = max[c] as number;
      for (let j = 0; j < inner; j++) {
        const x = data[base + j] as number;
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
      min[c] = lo;
      max[c] = hi;
    }
  }
  return { min, max };
}
