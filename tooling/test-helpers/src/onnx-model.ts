/**
 * A minimal ONNX ModelProto writer for tests: one graph, fed entirely through graph inputs or raw
 * initializers. Hand-encoded protobuf (field numbers from onnx.proto), so core's tests can run single
 * operators in onnxruntime-node without depending on the ONNX adapter.
 */

/** ONNX TensorProto element types used by the tests. */
export const ONNX_ELEM = { float: 1, uint8: 2, int8: 3, int32: 6, int64: 7 } as const;

/** A graph input/output or initializer description. */
export interface OnnxTestValue {
  name: string;
  elemType: keyof typeof ONNX_ELEM;
  dims: (number | string)[];
  /** Raw little-endian bytes: makes this an initializer instead of an input. */
  raw?: Uint8Array;
}

/** A node of the test graph. */
export interface OnnxTestNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  domain?: string;
  attributes?: Record<string, number | number[] | string>;
  /** Attributes that must be encoded as floats. */
  floatAttributes?: string[];
}

class Writer {
  private readonly parts: number[] = [];
  varint(value: number | bigint): this {
    let v = BigInt.asUintN(64, BigInt(value));
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v !== 0n) byte |= 0x80;
      this.parts.push(byte);
    } while (v !== 0n);
    return this;
  }
  tag(field: number, wire: number): this {
    return this.varint((field << 3) | wire);
  }
  int(field: number, value: number | bigint): this {
    return this.tag(field, 0).varint(value);
  }
  bytes(field: number, data: Uint8Array): this {
    this.tag(field, 2).varint(data.length);
    for (const b of data) this.parts.push(b);
    return this;
  }
  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }
  message(field: number, inner: Writer): this {
    return this.bytes(field, inner.finish());
  }
  float(field: number, value: number): this {
    this.tag(field, 5);
    const buf = new Uint8Array(4);
    new DataView(buf.buffer).setFloat32(0, value, true);
    for (const b of buf) this.parts.push(b);
    return this;
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

function valueInfo(v: OnnxTestValue): Writer {
  const shape = new Writer();
  for (const d of v.dims) {
    const dim = new Writer();
    if (typeof d === "number") dim.int(1, d);
    else dim.string(2, d);
    shape.message(1, dim);
  }
  const tensorType = new Writer().int(1, ONNX_ELEM[v.elemType]).message(2, shape);
  const type = new Writer().message(1, tensorType);
  return new Writer().string(1, v.name).message(2, type);
}

function tensor(v: OnnxTestValue): Writer {
  const w = new Writer();
  for (const d of v.dims) w.int(1, d as number);
  return w
    .int(2, ONNX_ELEM[v.elemType])
    .string(8, v.name)
    .bytes(9, v.raw as Uint8Array);
}

function node(n: OnnxTestNode, index: number): Writer {
  const w = new Writer();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, `${n.opType}_${index}`).string(4, n.opType);
  for (const [name, value] of Object.entries(n.attributes ?? {})) {
    const a = new Writer().string(1, name);
    const isFloat = n.floatAttributes?.includes(name) ?? false;
    if (typeof value === "string") a.bytes(4, new TextEncoder().encode(value)).int(20, 3);
    else if (Array.isArray(value)) {
      if (isFloat) {
        for (const x of value) a.float(7, x);
        a.int(20, 6);
      } else {
        for (const x of value) a.int(8, x);
        a.int(20, 7);
      }
    } else if (isFloat) a.float(2, value).int(20, 1);
    else a.int(3, value).int(20, 2);
    w.message(5, a);
  }
  if (n.domain !== undefined) w.string(7, n.domain);
  return w;
}

/** Encodes a single-graph ONNX model. */
export function encodeOnnxModel(spec: {
  nodes: OnnxTestNode[];
  inputs: OnnxTestValue[];
  outputs: OnnxTestValue[];
  opset?: number;
  extraOpsets?: Record<string, number>;
}): Uint8Array {
  const graph = new Writer();
  for (const [i, n] of spec.nodes.entries()) graph.message(1, node(n, i));
  graph.string(2, "test");
  for (const v of spec.inputs) if (v.raw !== undefined) graph.message(5, tensor(v));
  for (const v of spec.inputs) if (v.raw === undefined) graph.message(11, valueInfo(v));
  for (const v of spec.outputs) graph.message(12, valueInfo(v));
  const model = new Writer().int(1, 8);
  model.message(8, new Writer().string(1, "").int(2, spec.opset ?? 17));
  for (const [domain, version] of Object.entries(spec.extraOpsets ?? {})) {
    model.message(8, new Writer().string(1, domain).int(2, version));
  }
  model.message(7, graph);
  return model.finish();
}
