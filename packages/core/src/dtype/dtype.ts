import { ZeropointError } from "../errors/zeropoint-error.js";

/** Integer storage types a quantized tensor may use. int4/uint4 are packed two per byte. */
export type QuantDtype = "int4" | "uint4" | "int8" | "uint8" | "int16" | "uint16" | "int32";

/** Static facts about a {@link QuantDtype}. */
export interface DtypeInfo {
  readonly dtype: QuantDtype;
  readonly bits: number;
  readonly signed: boolean;
  /** Smallest representable integer. */
  readonly min: number;
  /** Largest representable integer. */
  readonly max: number;
}

const INFO: Record<QuantDtype, DtypeInfo> = {
  int4: { dtype: "int4", bits: 4, signed: true, min: -8, max: 7 },
  uint4: { dtype: "uint4", bits: 4, signed: false, min: 0, max: 15 },
  int8: { dtype: "int8", bits: 8, signed: true, min: -128, max: 127 },
  uint8: { dtype: "uint8", bits: 8, signed: false, min: 0, max: 255 },
  int16: { dtype: "int16", bits: 16, signed: true, min: -32768, max: 32767 },
  uint16: { dtype: "uint16", bits: 16, signed: false, min: 0, max: 65535 },
  int32: { dtype: "int32", bits: 32, signed: true, min: -2147483648, max: 2147483647 },
};

/** All supported quantized dtypes. */
export const QUANT_DTYPES: readonly QuantDtype[] = Object.keys(INFO) as QuantDtype[];

/** True when `value` names a supported {@link QuantDtype}. */
export function isQuantDtype(value: unknown): value is QuantDtype {
  return typeof value === "string" && Object.hasOwn(INFO, value);
}

/** Facts about a dtype; throws `invalid-dtype` for an unknown name. */
export function dtypeInfo(dtype: QuantDtype): DtypeInfo {
  if (!isQuantDtype(dtype)) {
    throw new ZeropointError("invalid-dtype", `unknown quantized dtype ${JSON.stringify(dtype)}`);
  }
  return INFO[dtype];
}

/** The typed array that holds unpacked values of each dtype (int4/uint4 unpack to 8-bit arrays). */
export interface QuantArrayMap {
  int4: Int8Array;
  uint4: Uint8Array;
  int8: Int8Array;
  uint8: Uint8Array;
  int16: Int16Array;
  uint16: Uint16Array;
  int32: Int32Array;
}

/** Any typed array that can hold quantized values. */
export type QuantArray = QuantArrayMap[QuantDtype];

/** Allocates a zeroed typed array for `length` unpacked values of `dtype`. */
export function allocateQuantArray<D extends QuantDtype>(dtype: D, length: number): QuantArrayMap[D] {
  switch (dtype) {
    case "int4":
    case "int8":
      return new Int8Array(length) as QuantArrayMap[D];
    case "uint4":
    case "uint8":
      return new Uint8Array(length) as QuantArrayMap[D];
    case "int16":
      return new Int16Array(length) as QuantArrayMap[D];
    case "uint16":
      return new Uint16Array(length) as QuantArrayMap[D];
    case "int32":
      return new Int32Array(length) as QuantArrayMap[D];
    default:
      throw new ZeropointError("invalid-dtype", `unknown quantized dtype ${JSON.stringify(dtype)}`);
  }
}
