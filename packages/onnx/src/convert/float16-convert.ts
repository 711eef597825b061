import { floatToHalf, ZeropointError } from "@zeropoint/core";
import { attributes, getAttribute } from "../graph/graph-index.js";
import { subgraphsOf } from "../graph/subgraphs.js";
import { isFloat16Model } from "../model/float16-compute.js";
import { opsetVersion, workingCopy } from "../model/model-io.js";
import {
  DataType,
  type OnnxGraph,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValueInfo,
  toNumber,
} from "../model/onnx-schema.js";
import { makeTensor, readFloat32, tensorDims } from "../model/tensor-data.js";
import { valueTypes } from "./value-types.js";

/**
 * Ops that keep float32 compute in a float16 model, with why. The list onnxruntime's own converter
 * (onnxconverter-common `float16.py`) and transformers.js start from: ops with no float16 kernel in
 * onnxruntime, or whose float16 results differ in kind (indices of TopK/NonMaxSuppression ties,
 * coordinates of Resize/RoiAlign). Quantization ops whose float inputs are float32 by schema before
 * opset 19 are added per model (see {@link convertToFloat16}).
 */
export const FLOAT16_OP_BLOCK_LIST: Readonly<Record<string, string>> = {
  TopK: "no float16 kernel in onnxruntime's CPU provider; ties order differently",
  NonMaxSuppression: "box coordinates and scores need float32",
  RoiAlign: "coordinates need float32",
  Resize: "scales/roi inputs are float32 by schema; coordinates need float32",
  Upsample: "scales input is float32 by schema",
  CumSum: "running sums overflow float16",
  Min: "no float16 kernel in onnxruntime's CPU provider at older opsets",
  Max: "no float16 kernel in onnxruntime's CPU provider at older opsets",
  Range: "generated index ranges lose integers above 2048 in float16",
  RandomNormalLike: "random generators produce float32",
  RandomUniformLike: "random generators produce float32",
  DynamicQuantizeLinear: "float32 input by schema",
  DynamicQuantizeMatMul: "float32 input in onnxruntime",
  MatMulIntegerToFloat: "float32 scales in onnxruntime",
  DynamicQuantizeLSTM: "float32 input in onnxruntime",
  MatMulBnb4: "onnxruntime's CPU kernel takes float32 only",
};

/** Options of {@link convertToFloat16}. */
export interface Float16ConvertOptions {
  /** Keep float32 graph inputs and outputs, with Casts at the edges (default true, as transformers.js). */
  readonly keepIoTypes?: boolean;
  /** More op types kept float32, on top of {@link FLOAT16_OP_BLOCK_LIST}. */
  readonly opBlockList?: readonly string[];
  /** Nodes (by name) kept float32. */
  readonly nodeBlockList?: readonly string[];
  /**
   * Values (activations, by name) known to exceed float16's range, e.g. from calibration: the nodes
   * producing them keep float32 compute.
   */
  readonly float32Values?: readonly string[];
}

/** What {@link convertToFloat16} did. */
export interface Float16Report {
  /** Float32 initializers stored as float16. */
  readonly convertedInitializers: number;
  /** Initializers kept float32, with why (a value beyond float16's ±65504, or only float32 readers). */
  readonly float32Initializers: readonly { name: string; reason: string }[];
  /** Nodes kept in float32 compute, with why. */
  readonly float32Nodes: readonly { name: string; opType: string; reason: string }[];
  /** Casts inserted between float16 and float32 values. */
  readonly castsInserted: number;
  /** Nonzero weights below float16's smallest subnormal (2^-24), which become 0. */
  readonly flushedToZero: number;
}

const FLOAT = DataType.FLOAT;
const HALF = DataType.FLOAT16;
/** Largest finite float16. */
const HALF_MAX = 65504;
/** Ops whose float input is read for its shape or converted anyway: any float type is fine there. */
const ANY_TYPE_INPUT: Readonly<Record<string, readonly number[]>> = { Shape: [0], Size: [0], Cast: [0] };
/** Ops whose outputs come from the bodies they carry; never kept float32 as a whole. */
const CONTROL_FLOW = new Set(["If", "Loop", "Scan"]);
/** Quantization ops whose float (scale) inputs are float32 by schema before opset 19. */
const QDQ = new Set(["QuantizeLinear", "DequantizeLinear"]);

/**
 * Converts a float32 model to float16 compute (the transformers.js `fp16` file, and `q4f16` after
 * int4): float32 initializers and constants become float16, float32 activations float16, except
 * nodes of the block list, which compute in float32 with Casts around them; graph inputs and
 * outputs stay float32 with one Cast at each edge unless `keepIoTypes` is false. An initializer
 * with a finite value beyond float16's ±65504 stays float32 and its readers compute in float32
 * (reported) rather than reading ±inf. Bodies of If/Loop/Scan are converted too (their float
 * interfaces become float16). The input model is not modified.
 */
export function convertToFloat16(
  input: OnnxModel | string | Uint8Array,
  options: Float16ConvertOptions = {},
): { model: OnnxModel; report: Float16Report } {
  const model = workingCopy(input);
  const top = model.graph as OnnxGraph | undefined;
  if (!top) throw new ZeropointError("invalid-model", "model has no graph");
  if (isFloat16Model(model))
    throw new ZeropointError(
      "invalid-argument",
      "the model already computes in float16 (float16 inputs or weights); converting again would change nothing",
    );
  const keepIo = options.keepIoTypes !== false;
  const qdqFloat32 = (opsetVersion(model) ?? 13) < 19;
  const blockedOps = new Map<string, string>(Object.entries(FLOAT16_OP_BLOCK_LIST));
  for (const op of options.opBlockList ?? []) blockedOps.set(op, "in the op block list");
  for (const op of CONTROL_FLOW) blockedOps.delete(op);
  const blockedNodes = new Set(options.nodeBlockList ?? []);
  const float32Values = new Set(options.float32Values ?? []);
  const float32Initializers: { name: string; reason: string }[] = [];
  const float32Nodes: { name: string; opType: string; reason: string }[] = [];
  let convertedInitializers = 0;
  let castsInserted = 0;
  let flushedToZero = 0;

  // Initializers and Constant values that float16 cannot hold, by name (any graph).
  const overflowing = new Map<string, number>();
  const scan = (g: OnnxGraph) => {
    for (const t of g.initializer) if (t.dataType === FLOAT) noteOverflow(t.name ?? "", readFloat32(t));
    for (const n of g.node) {
      const value = n.opType === "Constant" ? getAttribute(n, "value")?.t : undefined;
      if (value?.dataType === FLOAT) noteOverflow(n.output[0] ?? "", readFloat32(value));
      for (const sub of subgraphsOf(n)) scan(sub);
    }
  };
  function noteOverflow(name: string, values: Float32Array): void {
    let worst = 0;
    for (const v of values) if (Number.isFinite(v) && Math.abs(v) > worst) worst = Math.abs(v);
    if (worst > HALF_MAX) overflowing.set(name, worst);
  }
  scan(top);

  function blockReason(node: OnnxNode): string | undefined {
    const op = node.opType ?? "";
    if (CONTROL_FLOW.has(op)) return undefined;
    if (blockedNodes.has(node.name ?? "")) return "in the node block list";
    const domain = node.domain ?? "";
    if (domain === "ai.onnx.ml") return "ai.onnx.ml ops compute in float32";
    const listed = blockedOps.get(op);
    if (listed !== undefined) return listed;
    if (qdqFloat32 && QDQ.has(op) && domain === "") return "float32 scales by schema before opset 19";
    for (const i of node.input) {
      const worst = overflowing.get(i);
      if (worst !== undefined) return `reads ${i}, whose |x| reaches ${worst.toExponential(3)} (> float16's 65504)`;
    }
    const own = node.output.find((o) => overflowing.has(o) || float32Values.has(o));
    if (own !== undefined) return `${own} exceeds float16's range`;
    return undefined;
  }

  /**
   * Converts one graph. `outer` holds the original and final types of the values enclosing graphs
   * define (a body reads them by name).
   */
  function convertGraph(g: OnnxGraph, outer: ReadonlyMap<string, { original: number; final: number }>): void {
    const isTop = g === top;
    const original = valueTypes(g, new Map([...outer].map(([k, v]) => [k, v.original])));
    const final = new Map<string, number>();
    for (const [k, v] of outer) final.set(k, v.final);
    const blocked = new Map<OnnxNode, string>();
    for (const n of g.node) {
      const why = blockReason(n);
      if (why === undefined) continue;
      // Only nodes that compute on floats are worth a note.
      if ([...n.input, ...n.output].some((v) => original.get(v) === FLOAT)) {
        blocked.set(n, why);
        float32Nodes.push({ name: n.name ?? "", opType: n.opType ?? "", reason: why });
      }
    }
    // Graph inputs: float32 at the top when the interface is kept, float16 otherwise (and in bodies).
    for (const v of g.input) {
      const name = v.name ?? "";
      if (original.get(name) !== FLOAT) continue;
      const keep = isTop && keepIo;
      final.set(name, keep ? FLOAT : HALF);
      if (!keep) setElemType(v, HALF);
    }
    // Initializers: float16 unless they overflow or only float32 nodes read them.
    const readers = new Map<string, OnnxNode[]>();
    for (const n of g.node)
      for (const i of n.input) {
        const list = readers.get(i);
        if (list === undefined) readers.set(i, [n]);
        else list.push(n);
      }
    const readInBodies = new Set<string>();
    for (const n of g.node) for (const sub of subgraphsOf(n)) collectReads(sub, readInBodies);
    g.initializer = g.initializer.map((t) => {
      const name = t.name ?? "";
      if (t.dataType !== FLOAT) return t;
      const worst = overflowing.get(name);
      const onlyFloat32 =
        !readInBodies.has(name) &&
        !g.output.some((o) => o.name === name) &&
        (readers.get(name) ?? []).every((r) => blocked.has(r));
      if (worst !== undefined || onlyFloat32) {
        final.set(name, FLOAT);
        float32Initializers.push({
          name,
          reason:
            worst !== undefined
              ? `|x| reaches ${worst.toExponential(3)}, beyond float16's 65504`
              : "read only by float32 nodes",
        });
        return t;
      }
      final.set(name, HALF);
      convertedInitializers++;
      return toHalfTensor(t);
    });
    // Node outputs.
    for (const n of g.node) {
      const isBlocked = blocked.has(n);
      if (!isBlocked) convertAttributes(n);
      n.output.forEach((o, k) => {
        const t = original.get(o);
        if (t !== FLOAT) {
          if (t !== undefined) final.set(o, t);
          return;
        }
        // LayerNormalization's mean/inverse-deviation outputs follow stash_type (float32), not X.
        const stash = n.opType === "LayerNormalization" && k > 0;
        final.set(o, isBlocked || stash ? FLOAT : HALF);
      });
    }
    // Bodies, with this graph's values visible to them.
    const visible = new Map(outer);
    for (const [k, t] of original) visible.set(k, { original: t, final: final.get(k) ?? t });
    for (const n of g.node) for (const sub of subgraphsOf(n)) convertGraph(sub, visible);

    // Casts where a value's final type differs from what its reader computes in.
    const casts = new Map<string, string>();
    const out: OnnxNode[] = [];
    const castTo = (value: string, to: number, at: OnnxNode[]): string => {
      const key = `${value}|${to}`;
      const existing = casts.get(key);
      if (existing !== undefined) return existing;
      const name = uniqueName(`${value}_${to === HALF ? "float16" : "float32"}`);
      at.push({
        name: uniqueName(`${name}_Cast`),
        opType: "Cast",
        input: [value],
        output: [name],
        attribute: attributes({ to }),
      });
      castsInserted++;
      casts.set(key, name);
      return name;
    };
    for (const n of g.node) {
      const wanted = blocked.has(n) ? FLOAT : HALF;
      const anyType = ANY_TYPE_INPUT[n.opType ?? ""] ?? [];
      n.input = n.input.map((i, k) => {
        if (i === "" || anyType.includes(k)) return i;
        const have = final.get(i);
        if ((have !== FLOAT && have !== HALF) || have === wanted) return i;
        // Loop/Scan/If read float values as float16 (their bodies were converted).
        return castTo(i, wanted, out);
      });
      out.push(n);
    }
    // Graph outputs: float32 at the kept top interface, float16 in bodies and otherwise.
    for (const v of g.output) {
      const name = v.name ?? "";
      if (original.get(name) !== FLOAT) continue;
      const wanted = isTop && keepIo ? FLOAT : HALF;
      setElemType(v, wanted);
      const have = final.get(name);
      if (have === wanted) continue;
      // The producer writes a renamed value; a Cast writes the output under its own name.
      const inner = uniqueName(`${name}_${have === HALF ? "float16" : "float32"}`);
      renameValue(g, name, inner, out);
      final.set(inner, have ?? FLOAT);
      out.push({
        name: uniqueName(`${name}_Cast`),
        opType: "Cast",
        input: [inner],
        output: [name],
        attribute: attributes({ to: wanted }),
      });
      castsInserted++;
      final.set(name, wanted);
    }
    g.node = out;
    for (const v of g.valueInfo ?? []) {
      const t = final.get(v.name ?? "");
      if (original.get(v.name ?? "") === FLOAT && t !== undefined) setElemType(v, t);
    }
  }

  /** Cast targets, float Constant values and ConstantOfShape fills become float16. */
  function convertAttributes(n: OnnxNode): void {
    for (const a of n.attribute) {
      if (n.opType === "Cast" && a.name === "to" && toNumber(a.i) === FLOAT) a.i = HALF;
      if (
        (n.opType === "EyeLike" || n.opType === "RandomNormal" || n.opType === "RandomUniform") &&
        a.name === "dtype" &&
        toNumber(a.i) === FLOAT
      )
        a.i = HALF;
      if (a.t && a.t.dataType === FLOAT && (n.opType === "Constant" || n.opType === "ConstantOfShape"))
        a.t = toHalfTensor(a.t);
      if (n.opType === "Constant" && (a.name === "value_float" || a.name === "value_floats")) {
        const values = a.name === "value_float" ? [a.f ?? 0] : (a.floats ?? []);
        const dims = a.name === "value_float" ? [] : [values.length];
        a.name = "value";
        a.type = 4;
        a.t = toHalfTensor(makeTensor("", dims, Float32Array.from(values)));
        a.f = undefined as never;
        a.floats = undefined as never;
      }
    }
  }

  function toHalfTensor(t: OnnxTensor): OnnxTensor {
    const values = readFloat32(t);
    const half = new Uint16Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as number;
      const h = floatToHalf(v);
      // ±0 in float16 from a nonzero float32: below the smallest subnormal.
      if ((h & 0x7fff) === 0 && v !== 0) flushedToZero++;
      half[i] = h;
    }
    return makeTensor(t.name ?? "", tensorDims(t), half, HALF);
  }

  const names = new Set<string>();
  const collectNames = (g: OnnxGraph) => {
    for (const t of g.initializer) names.add(t.name ?? "");
    for (const v of [...g.input, ...g.output]) names.add(v.name ?? "");
    for (const n of g.node) {
      names.add(n.name ?? "");
      for (const o of n.output) names.add(o);
      for (const sub of subgraphsOf(n)) collectNames(sub);
    }
  };
  collectNames(top);
  function uniqueName(base: string): string {
    let name = base;
    for (let k = 1; names.has(name); k++) name = `${base}_${k}`;
    names.add(name);
    return name;
  }

  convertGraph(top, new Map());
  return {
    model,
    report: { convertedInitializers, float32Initializers, float32Nodes, castsInserted, flushedToZero },
  };
}

/** Names read by a graph and its bodies (outer-scope reads included). */
function collectReads(g: OnnxGraph, into: Set<string>): void {
  for (const n of g.node) {
    for (const i of n.input) into.add(i);
    for (const sub of subgraphsOf(n)) collectReads(sub, into);
  }
  for (const o of g.output) into.add(o.name ?? "");
}

/** Renames a value a node writes, with every reader in the graph (and its bodies). */
function renameValue(g: OnnxGraph, from: string, to: string, nodes: OnnxNode[]): void {
  const visit = (list: OnnxNode[]) => {
    for (const n of list) {
      n.output = n.output.map((o) => (o === from ? to : o));
      n.input = n.input.map((i) => (i === from ? to : i));
      for (const sub of subgraphsOf(n)) visit(sub.node);
    }
  };
  visit(nodes);
  for (const t of g.initializer) {
    if (t.name === from) {
      // An output that is an initializer: the Cast reads the (renamed) constant.
      t.name = to;
    }
  }
  for (const v of g.input) if (v.name === from) throw unsupportedPassThrough(from);
}

function unsupportedPassThrough(name: string): ZeropointError {
  return new ZeropointError(
    "invalid-model",
    `graph output ${name} is a graph input passed through; float16 conversion with changed output types cannot rename it`,
  );
}

function setElemType(v: OnnxValueInfo, elemType: number): void {
  const tt = v.type?.tensorType;
  if (tt) tt.elemType = elemType;
}
