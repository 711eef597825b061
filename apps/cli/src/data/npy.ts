import { parseNpyTensor } from "@zeropoint/core";

export { parseNpyTensor };

/** A decoded .npy array as float32. */
export interface NpyArray {
  readonly data: Float32Array;
  readonly shape: number[];
}

/**
 * Reads NumPy's .npy format (versions 1-3): little-endian float32/float64/(u)int8/16/32/64 arrays in C
 * order, converted to float32. Anything else is an `invalid-calibration-data` error naming the file.
 */
export function parseNpy(bytes: Uint8Array, file: string): NpyArray {
  const tensor = parseNpyTensor(bytes, file);
  if (tensor.dtype === "float32") return { data: tensor.data as Float32Array, shape: [...tensor.dims] };
  const data = new Float32Array(tensor.data.length);
  for (let i = 0; i < data.length; i++) data[i] = Number(tensor.data[i]);
  return { data, shape: [...tensor.dims] };
}
