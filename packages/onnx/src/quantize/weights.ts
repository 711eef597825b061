import {
  channelMinMax,
  computeQParams,
  type QParams,
  type QuantScheme,
  quantize,
  ZeropointError,
} from "@zeropoint/core";
import type { OnnxTensor } from "../model/onnx-schema.js";
import { readFloat32, tensorDims } from "../model/tensor-data.js";

/** A quantized constant: values, parameters and the axis they run along (per-channel). */
export interface QuantizedWeight {
  readonly values: Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array;
  readonly qparams: QParams;
  readonly dims: number[];
  readonly axis: number | undefined;
}

/** Min and max of each slice along `axis` (all of the tensor when undefined). */
export function sliceMinMax(
  data: Float32Array,
  dims: readonly number[],
  axis: number | undefined,
): { min: number[]; max: number[] } {
  if (axis === undefined) {
    // onnxruntime's compute_data_quant_params uses the data's own min/max; the qparams routine
    // widens the range to include 0.
    let mn = Number.POSITIVE_INFINITY;
    let mx = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < data.length; i++) {
      const v = data[i] as number;
      if (v < mn) mn = v;
      if (v > mx) mx = v;
    }
    return data.length === 0 ? { min: [0], max: [0] } : { min: [mn], max: [mx] };
  }
  const { min, max } = channelMinMax(data, dims, axis);
  // An empty channel (a zero-size dim) has no range: 0, as onnxruntime gives an empty tensor.
  return {
    min: Array.from(min, (v) => (Number.isFinite(v) ? v : 0)),
    max: Array.from(max, (v) => (Number.isFinite(v) ? v : 0)),
  };
}

/**
 * Quantizes a float initializer with onnxruntime's arithmetic: per-channel along `axis` or per-tensor,
 * symmetric weights on the narrow table (int8 -127..127), float64 scales, ties to even.
 */
export function quantizeWeightTensor(
  tensor: OnnxTensor,
  scheme: QuantScheme,
  axis: number | undefined,
): QuantizedWeight {
  const data = readFloat32(tensor);
  const dims = tensorDims(tensor);
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i] as number)) {
      throw new ZeropointError("invalid-model", `weight ${tensor.name ?? "?"} has a non-finite value at ${i}`, {
        details: { tensor: tensor.name },
      });
    }
  }
  if (axis !== undefined && (axis < 0 || axis >= dims.length)) {
    throw new ZeropointError("invalid-axis", `weight ${tensor.name ?? "?"} has rank ${dims.length}; no axis ${axis}`);
  }
  const { min, max } = sliceMinMax(data, dims, axis);
  const perChannel = axis !== undefined;
  const qparams = computeQParams(min, max, {
    scheme: { ...scheme, granularity: perChannel ? "per-channel" : "per-tensor", ...(perChannel ? { axis } : {}) },
    convention: "onnxruntime",
  });
  const values = quantize(data, qparams, { shape: dims, convention: "onnxruntime" });
  return { values, qparams, dims, axis };
}

/** Re-quantizes one weight with given (larger) per-channel scales, keeping zero points. */
export function requantizeWithScales(
  tensor: OnnxTensor,
  weight: QuantizedWeight,
  scales: Float32Array,
): QuantizedWeight {
  const qparams: QParams = { ...weight.qparams, scale: scales };
  const values = quantize(readFloat32(tensor), qparams, { shape: weight.dims, convention: "onnxruntime" });
  return { ...weight, values, qparams };
}

/**
 * Min and max of each block of `block` elements along `axis`, in the parameter layout of core's
 * per-group quantization (outer, group, inner).
 */
export function blockMinMax(
  data: Float32Array,
  dims: readonly number[],
  axis: number,
  block: number,
): { min: number[]; max: number[]; groups: number } {
  const length = dims[axis] as number;
  const groups = Math.ceil(length / block);
  let outer = 1;
  for (let i = 0; i < axis; i++) outer *= dims[i] as number;
  let inner = 1;
  for (let i = axis + 1; i < dims.length; i++) inner *= dims[i] as number;
  const count = outer * groups * inner;
  const min = new Array<number>(count).fill(0);
  const max = new Array<number>(count).fill(0);
  for (let o = 0; o < outer; o++) {
    for (let a = 0; a < length; a++) {
      const g = Math.floor(a / block);
      for (let j = 0; j < inner; j++) {
        const v = data[(o * length + a) * inner + j] as number;
        const p = (o * groups + g) * inner + j;
        if (v < (min[p] as number)) min[p] = v;
        if (v > (max[p] as number)) max[p] = v;
      }
    }
  }
  return { min, max, groups };
}
