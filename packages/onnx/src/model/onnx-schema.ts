import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";

/**
 * The ONNX schema, parsed at load time from the package's own `proto/onnx.proto` (written from the
 * ONNX spec). protobufjs reflection keeps every field, so models re-encode byte for byte.
 */
const root = protobuf.loadSync(fileURLToPath(new URL("../../proto/onnx.proto", import.meta.url)));

/** protobufjs message types used by the adapter. */
export const ModelProtoType = root.lookupType("onnx.ModelProto");
export const TensorProtoType = root.lookupType("onnx.TensorProto");

/** int64 fields decode to protobufjs Long objects (or numbers); this reads either. */
export type Int64 = number | { low: number; high: number; unsigned?: boolean; toNumber?: () => number };

/** Converts a decoded int64 to a JS number (exact up to 2^53). */
export function toNumber(v: Int64 | undefined | null): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === "number") return v;
  if (typeof v.toNumber === "function") return v.toNumber();
  return v.high * 4294967296 + (v.low >>> 0);
}

/** ONNX TensorProto.DataType values. */
export const DataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  COMPLEX64: 14,
  COMPLEX128: 15,
  BFLOAT16: 16,
  FLOAT8E4M3FN: 17,
  FLOAT8E4M3FNUZ: 18,
  FLOAT8E5M2: 19,
  FLOAT8E5M2FNUZ: 20,
  UINT4: 21,
  INT4: 22,
} as const;

/** Bits per element of each fixed-size data type (strings have none). */
export const DATA_TYPE_BITS: Readonly<Record<number, number>> = {
  1: 32,
  2: 8,
  3: 8,
  4: 16,
  5: 16,
  6: 32,
  7: 64,
  9: 8,
  10: 16,
  11: 64,
  12: 32,
  13: 64,
  14: 64,
  15: 128,
  16: 16,
  17: 8,
  18: 8,
  19: 8,
  20: 8,
  21: 4,
  22: 4,
};

/** Attribute types (AttributeProto.AttributeType). */
export const AttributeType = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
} as const;

/** StringStringEntryProto. */
export interface OnnxEntry {
  key?: string;
  value?: string;
}

/** TensorProto (fields the adapter reads or writes). */
export interface OnnxTensor {
  name?: string;
  dims?: Int64[];
  dataType?: number;
  rawData?: Uint8Array;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: Int64[];
  doubleData?: number[];
  uint64Data?: Int64[];
  stringData?: Uint8Array[];
  externalData?: OnnxEntry[];
  dataLocation?: number;
  docString?: string;
  segment?: unknown;
}

/** AttributeProto. */
export interface OnnxAttribute {
  name?: string;
  type?: number;
  f?: number;
  i?: Int64;
  s?: Uint8Array;
  t?: OnnxTensor;
  g?: OnnxGraph;
  floats?: number[];
  ints?: Int64[];
  strings?: Uint8Array[];
  tensors?: OnnxTensor[];
  graphs?: OnnxGraph[];
}

/** NodeProto. */
export interface OnnxNode {
  input: string[];
  output: string[];
  name?: string;
  opType?: string;
  domain?: string;
  attribute: OnnxAttribute[];
  docString?: string;
}

/** TensorShapeProto.Dimension. */
export interface OnnxDimension {
  dimValue?: Int64;
  dimParam?: string;
}

/** ValueInfoProto. */
export interface OnnxValueInfo {
  name?: string;
  type?: { tensorType?: { elemType?: number; shape?: { dim?: OnnxDimension[] } } };
  docString?: string;
}

/** GraphProto. */
export interface OnnxGraph {
  node: OnnxNode[];
  name?: string;
  initializer: OnnxTensor[];
  input: OnnxValueInfo[];
  output: OnnxValueInfo[];
  valueInfo: OnnxValueInfo[];
  sparseInitializer?: unknown[];
  docString?: string;
}

/** OperatorSetIdProto. */
export interface OnnxOpset {
  domain?: string;
  version?: Int64;
}

/** ModelProto. */
export interface OnnxModel {
  irVersion?: Int64;
  opsetImport: OnnxOpset[];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: Int64;
  docString?: string;
  graph?: OnnxGraph;
  metadataProps?: OnnxEntry[];
  functions?: unknown[];
}
