import { halfToFloat, ZeropointError } from "@zeropoint/core";
import { tensorBytes } from "./lazy-external.js";
import { DATA_TYPE_BITS, DataType, type OnnxTensor, toNumber } from "./onnx-schema.js";

/** Dims of a tensor as numbers. */
export function tensorDims(t: OnnxTensor): number[] {
  return (t.dims ?? []).map(toNumber);
}

/** Element count of a tensor (1 for a scalar). */
export function tensorSize(t: OnnxTensor): number {
  return tensorDims(t).reduce((a, b) => a * b, 1);
}

/** Expected raw byte length of a tensor from its dims and data type; undefined for strings. */
export function expectedByteLength(t: OnnxTensor): number | undefined {
  const bits = DATA_TYPE_BITS[t.dataType ?? 0];
  if (bits === undefined) return undefined;
  return Math.ceil((tensorSize(t) * bits) / 8);
}

function littleEndianView(raw: Uint8Array): DataView {
  return new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
}

/** Reads a FLOAT (or DOUBLE / FLOAT16) tensor as float32. Throws `invalid-model` for other types. */
export function readFloat32(t: OnnxTensor): Float32Array {
  const n = tensorSize(t);
  const type = t.dataType ?? 0;
  const raw = tensorBytes(t);
  const hasRaw = raw !== undefined && raw.length > 0;
  if (type === DataType.FLOAT) {
    if (hasRaw) {
      checkRaw(t, raw, n * 4);
      // x86-64 and arm64 are little-endian, as ONNX raw data is: an aligned buffer is copied whole.
      // A fresh read of external data is the caller's own: viewed, not copied.
      if (raw.byteOffset % 4 === 0) {
        const view = new Float32Array(raw.buffer, raw.byteOffset, n);
        return raw === t.rawData ? view.slice() : view;
      }
      const out = new Float32Array(n);
      const view = littleEndianView(raw);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    }
    return checkCount(t, Float32Array.from(t.floatData ?? []), n);
  }
  if (type === DataType.DOUBLE) {
    if (hasRaw) {
      checkRaw(t, raw, n * 8);
      const view = littleEndianView(raw);
      return Float32Array.from({ length: n }, (_, i) => view.getFloat64(i * 8, true));
    }
    return checkCount(t, Float32Array.from(t.doubleData ?? []), n);
  }
  if (type === DataType.FLOAT16) {
    if (hasRaw) {
      checkRaw(t, raw, n * 2);
      const view = littleEndianView(raw);
      return Float32Array.from({ length: n }, (_, i) => halfToFloat(view.getUint16(i * 2, true)));
    }
    return checkCount(t, Float32Array.from(t.int32Data ?? [], halfToFloat), n);
  }
  throw new ZeropointError("invalid-model", `tensor ${t.name ?? "?"} has data type ${type}, expected a float type`);
}

/** Reads an integer tensor (INT64, INT32, INT8, UINT8, ...) as plain numbers (shapes, axes, indices). */
export function readIntegers(t: OnnxTensor): number[] {
  const n = tensorSize(t);
  const type = t.dataType ?? 0;
  const raw = tensorBytes(t);
  const hasRaw = raw !== undefined && raw.length > 0;
  if (!hasRaw) {
    if (type === DataType.INT64) return checkCount(t, (t.int64Data ?? []).map(toNumber), n);
    if (type === DataType.UINT64) return checkCount(t, (t.uint64Data ?? []).map(toNumber), n);
    return checkCount(t, [...(t.int32Data ?? [])], n);
  }
  const view = littleEndianView(raw);
  const read: Record<number, [number, (o: number) => number]> = {
    [DataType.INT64]: [8, (o) => Number(view.getBigInt64(o, true))],
    [DataType.UINT64]: [8, (o) => Number(view.getBigUint64(o, true))],
    [DataType.INT32]: [4, (o) => view.getInt32(o, true)],
    [DataType.UINT32]: [4, (o) => view.getUint32(o, true)],
    [DataType.INT16]: [2, (o) => view.getInt16(o, true)],
    [DataType.UINT16]: [2, (o) => view.getUint16(o, true)],
    [DataType.INT8]: [1, (o) => view.getInt8(o)],
    [DataType.UINT8]: [1, (o) => view.getUint8(o)],
    [DataType.BOOL]: [1, (o) => view.getUint8(o)],
  };
  const entry = read[type];
  if (entry === undefined)
    throw new ZeropointError("invalid-model", `tensor ${t.name ?? "?"}: data type ${type} is not an integer type`);
  const [size, get] = entry;
  checkRaw(t, raw, n * size);
  return Array.from({ length: n }, (_, i) => get(i * size));
}

function checkRaw(t: OnnxTensor, raw: Uint8Array, bytes: number): void {
  if (raw.length !== bytes) {
    throw new ZeropointError(
      "invalid-model",
      `tensor ${t.name ?? "?"}: raw data has ${raw.length} bytes, dims [${tensorDims(t).join(", ")}] need ${bytes}`,
    );
  }
}

function checkCount<T extends { length: number }>(t: OnnxTensor, values: T, n: number): T {
  if (values.length !== n) {
    throw new ZeropointError("invalid-model", `tensor ${t.name ?? "?"}: has ${values.length} values, dims need ${n}`);
  }
  return values;
}

/** Typed arrays {@link makeTensor} accepts, with their ONNX data types. */
export type TensorValues =
  | Float32Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | BigInt64Array;

function dataTypeOf(values: TensorValues): number {
  if (values instanceof Float32Array) return DataType.FLOAT;
  if (values instanceof Int8Array) return DataType.INT8;
  if (values instanceof Uint8Array) return DataType.UINT8;
  if (values instanceof Int16Array) return DataType.INT16;
  if (values instanceof Uint16Array) return DataType.UINT16;
  if (values instanceof Int32Array) return DataType.INT32;
  return DataType.INT64;
}

/**
 * Builds a tensor with little-endian raw data. `dataType` overrides the inferred type (e.g. INT4 /
 * UINT4 for packed nibbles in a Uint8Array).
 */
export function makeTensor(name: string, dims: readonly number[], values: TensorValues, dataType?: number): OnnxTensor {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const raw = new Uint8Array(bytes.length);
  raw.set(bytes);
  // JS typed arrays use the platform byte order; ONNX raw data is little-endian.
  if (!littleEndianPlatform && values.BYTES_PER_ELEMENT > 1) swapBytes(raw, values.BYTES_PER_ELEMENT);
  return { name, dims: [...dims], dataType: dataType ?? dataTypeOf(values), rawData: raw };
}

/** int64 tensor from numbers. */
export function makeInt64Tensor(name: string, dims: readonly number[], values: readonly number[]): OnnxTensor {
  return makeTensor(
    name,
    dims,
    BigInt64Array.from(values, (v) => BigInt(v)),
  );
}

const littleEndianPlatform = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

function swapBytes(raw: Uint8Array, width: number): void {
  for (let i = 0; i < raw.length; i += width) raw.subarray(i, i + width).reverse();
}

/**
 * Dims of a graph input/output: numbers, or the symbolic name (`dim_param`) of a symbolic dim, or
 * "?" when neither is set. (protobufjs reports a default `dim_value` of 0 for symbolic dims.)
 */
export function valueInfoDims(v: {
  type?: { tensorType?: { shape?: { dim?: { dimValue?: unknown; dimParam?: string }[] } } };
}): (number | string)[] {
  return (v.type?.tensorType?.shape?.dim ?? []).map((d) => {
    if (typeof d.dimParam === "string" && d.dimParam !== "") return d.dimParam;
    const value = toNumber(d.dimValue as Parameters<typeof toNumber>[0]);
    return value > 0 ? value : "?";
  });
}
