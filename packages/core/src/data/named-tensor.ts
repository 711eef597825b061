import { ZeropointError } from "../errors/zeropoint-error.js";

/** Element types a model input can take (the ONNX / tfjs / torch names agree on these). */
export type TensorDtype =
  | "float32"
  | "float16"
  | "float64"
  | "int64"
  | "int32"
  | "int16"
  | "int8"
  | "uint8"
  | "uint16"
  | "bool";

/** The typed array holding each dtype. float16 is raw IEEE half bits; bool is one byte per element. */
export interface TensorDataMap {
  float32: Float32Array;
  float16: Uint16Array;
  float64: Float64Array;
  int64: BigInt64Array;
  int32: Int32Array;
  int16: Int16Array;
  int8: Int8Array;
  uint8: Uint8Array;
  uint16: Uint16Array;
  bool: Uint8Array;
}

/** Any tensor's data. */
export type TensorData = TensorDataMap[TensorDtype];

/** A typed tensor: what a data source yields per model input. */
export interface NamedTensor<D extends TensorDtype = TensorDtype> {
  readonly dtype: D;
  readonly data: TensorDataMap[D];
  readonly dims: readonly number[];
}

/** One sample or one batch: a tensor per model input, by name. */
export type TensorRecord = Readonly<Record<string, NamedTensor>>;

/** Dtypes whose values are floating point (observed by calibrators, checked for NaN). */
export const FLOAT_DTYPES: ReadonlySet<TensorDtype> = new Set(["float32", "float16", "float64"]);

/** Allocates a zeroed array of `dtype` with `length` elements. */
export function allocateTensorData<D extends TensorDtype>(dtype: D, length: number): TensorDataMap[D] {
  const make: { [K in TensorDtype]: (n: number) => TensorDataMap[K] } = {
    float32: (n) => new Float32Array(n),
    float16: (n) => new Uint16Array(n),
    float64: (n) => new Float64Array(n),
    int64: (n) => new BigInt64Array(n),
    int32: (n) => new Int32Array(n),
    int16: (n) => new Int16Array(n),
    int8: (n) => new Int8Array(n),
    uint8: (n) => new Uint8Array(n),
    uint16: (n) => new Uint16Array(n),
    bool: (n) => new Uint8Array(n),
  };
  return make[dtype](length) as TensorDataMap[D];
}

/** A float32 tensor (the common case) without spelling the dtype. */
export function float32Tensor(data: Float32Array, dims: readonly number[]): NamedTensor<"float32"> {
  return { dtype: "float32", data, dims };
}

/** Number of elements the dims describe (1 for a scalar). */
export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/**
 * Converts a tensor to another dtype, for data stored as one type and read by a model as another
 * (NumPy writes int64 ids; a model may take int32). Integer targets require integral values in
 * range; a fractional or out-of-range value is an error naming `what`, never silently truncated.
 */
export function castTensor<D extends TensorDtype>(tensor: NamedTensor, dtype: D, what: string): NamedTensor<D> {
  if (tensor.dtype === dtype) return tensor as NamedTensor<D>;
  if (tensor.dtype === "float16" || dtype === "float16") {
    throw new ZeropointError(
      "invalid-dtype",
      `${what} is ${tensor.dtype} but the model takes ${dtype}; convert the data to ${dtype}`,
    );
  }
  const out = allocateTensorData(dtype, tensor.data.length);
  const range = INTEGER_RANGE[dtype];
  for (let i = 0; i < tensor.data.length; i++) {
    const raw = tensor.data[i] as number | bigint;
    if (range === undefined) {
      (out as Float32Array)[i] = Number(raw);
      continue;
    }
    const value = raw;
    if (typeof value === "number" && !Number.isInteger(value)) {
      throw new ZeropointError(
        "invalid-dtype",
        `${what}: element ${i} is ${value}, not an integer, but the model takes ${dtype}`,
        { details: { index: i } },
      );
    }
    const asNumber = Number(value);
    if (asNumber < range[0] || asNumber > range[1]) {
      throw new ZeropointError("invalid-dtype", `${what}: element ${i} (${asNumber}) is outside ${dtype}'s range`, {
        details: { index: i },
      });
    }
    if (dtype === "int64") (out as BigInt64Array)[i] = BigInt(value);
    else (out as Int32Array)[i] = asNumber;
  }
  return { dtype, data: out, dims: tensor.dims };
}

const INTEGER_RANGE: Partial<Record<TensorDtype, readonly [number, number]>> = {
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  int32: [-2147483648, 2147483647],
  int16: [-32768, 32767],
  int8: [-128, 127],
  uint8: [0, 255],
  uint16: [0, 65535],
  bool: [0, 1],
};

/** Reads element `i` as a number (int64 through Number: exact below 2^53). */
export function elementAsNumber(tensor: NamedTensor, i: number): number {
  const v = tensor.data[i] as number | bigint;
  if (tensor.dtype === "float16") return halfToFloat(v as number);
  return Number(v);
}

/** IEEE binary16 bits to a number, exactly (every half is a float32). */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/**
 * A number to IEEE binary16 bits, rounding to nearest even as onnxruntime's Cast and NumPy's
 * `astype(float16)` do; beyond 65504 it overflows to infinity.
 */
export function floatToHalf(value: number): number {
  F32[0] = value;
  const x = U32[0] as number;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half (or zero): shift the implicit-one mantissa right, rounding half to even.
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mantissa & ((1 << shift) - 1);
    let result = mantissa >>> shift;
    if (rest > half || (rest === half && (result & 1) === 1)) result++;
    return sign | result;
  }
  let result = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (result & 1) === 1)) result++;
  return sign | result;
}
