// Structure-aware mutations of a decoded ONNX model: valid protobuf, wrong semantics. Each picks one
// or more edits (dims, dtypes, node inputs, attribute types, subgraphs, opsets, duplicate names) so
// that the quantizer meets models that decode fine but lie about themselves.

import { structuredCloneModel } from "../src/model/model-io.js";
import { DataType, type OnnxModel } from "../src/model/onnx-schema.js";

type Rand = () => number;
const pick = <T>(rand: Rand, items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;

const ELEM_TYPES = [
  DataType.FLOAT,
  DataType.UINT8,
  DataType.INT8,
  DataType.INT32,
  DataType.INT64,
  10 /* FLOAT16 */,
  11 /* DOUBLE */,
  9 /* BOOL */,
  8 /* STRING */,
  0,
  99,
];
const DIMS = [0, 1, 3, 7, -1, 2 ** 31, 2 ** 40, 784, 10];

const EDITS: readonly ((m: OnnxModel, rand: Rand) => void)[] = [
  // An initializer's dims no longer match its data.
  (m, rand) => {
    const t = pick(rand, m.graph?.initializer ?? []);
    if (t) t.dims = (t.dims ?? []).map((d) => (rand() < 0.5 ? pick(rand, DIMS) : d)) as never;
  },
  // An initializer claims another element type.
  (m, rand) => {
    const t = pick(rand, m.graph?.initializer ?? []);
    if (t) t.dataType = pick(rand, ELEM_TYPES);
  },
  // A graph input changes type or shape.
  (m, rand) => {
    const v = m.graph?.input[0];
    const tt = v?.type?.tensorType;
    if (!tt) return;
    if (rand() < 0.5) tt.elemType = pick(rand, ELEM_TYPES);
    else for (const d of tt.shape?.dim ?? []) if (rand() < 0.5) d.dimValue = pick(rand, DIMS) as never;
  },
  // A node reads a tensor nobody produces, or its own output (a cycle).
  (m, rand) => {
    const n = pick(rand, m.graph?.node ?? []);
    if (!n || n.input.length === 0) return;
    const i = Math.floor(rand() * n.input.length);
    n.input[i] = rand() < 0.5 ? "nowhere" : (n.output[0] ?? "");
  },
  // A node loses or gains inputs.
  (m, rand) => {
    const n = pick(rand, m.graph?.node ?? []);
    if (!n) return;
    if (rand() < 0.5) n.input = n.input.slice(0, Math.floor(rand() * n.input.length));
    else n.input = [...n.input, n.input[0] ?? "x", "extra"];
  },
  // An attribute changes type (ints where a float is expected, a graph where an int is).
  (m, rand) => {
    const n = pick(rand, m.graph?.node ?? []);
    if (!n) return;
    const graph = { name: "sub", node: [], input: [], output: [], initializer: [], valueInfo: [] };
    const value = pick(rand, [
      { type: 1, f: 0.5 },
      { type: 2, i: 7 },
      { type: 7, ints: [1, 2, 3] },
      { type: 3, s: new TextEncoder().encode("x") },
      { type: 5, g: graph },
    ]);
    const name = pick(rand, ["transB", "axis", "alpha", "beta", "kernel_shape", "pads", "perm"]);
    n.attribute = [...n.attribute.filter((a) => a.name !== name), { name, ...value } as never];
  },
  // A node becomes an op with a subgraph (If) whose branches reference outer tensors.
  (m, rand) => {
    const n = pick(rand, m.graph?.node ?? []);
    if (!n) return;
    const branch = (out: string) => ({
      name: "branch",
      node: [{ name: "b", opType: "Identity", input: [n.input[0] ?? "x"], output: [out], attribute: [] }],
      input: [],
      output: [{ name: out }],
      initializer: [],
      valueInfo: [],
    });
    n.opType = "If";
    n.attribute = [
      { name: "then_branch", type: 5, g: branch("t") } as never,
      { name: "else_branch", type: 5, g: branch(rand() < 0.5 ? "e" : "t") } as never,
    ];
    n.input = [pick(rand, [n.input[0] ?? "x", "cond"])];
  },
  // The op type or domain changes.
  (m, rand) => {
    const n = pick(rand, m.graph?.node ?? []);
    if (!n) return;
    if (rand() < 0.5) n.opType = pick(rand, ["Conv", "MatMul", "Gemm", "Relu", "Softmax", "NoSuchOp", "Add", "Concat"]);
    else n.domain = pick(rand, ["com.microsoft", "ai.onnx.ml", "custom.x"]);
  },
  // Duplicate names: two nodes producing one tensor, two initializers of one name.
  (m, rand) => {
    const g = m.graph;
    if (!g) return;
    if (rand() < 0.5 && g.node.length > 1) (g.node[1] as (typeof g.node)[0]).output = [...(g.node[0]?.output ?? [])];
    else if (g.initializer.length > 0) g.initializer.push({ ...(g.initializer[0] as (typeof g.initializer)[0]) });
  },
  // The opset goes out of range.
  (m, rand) => {
    const o = m.opsetImport[0];
    if (o) o.version = pick(rand, [0, 1, 6, 9, 30, 1000]) as never;
  },
  // A graph output vanishes or names nothing.
  (m, rand) => {
    const g = m.graph;
    if (!g) return;
    if (rand() < 0.5) g.output = [];
    else g.output = [{ name: "nothing" }];
  },
];

/** Applies 1–3 random edits to a copy of `model`. */
export function mutateStructure(model: OnnxModel, seed: number): OnnxModel {
  let s = seed >>> 0 || 1;
  const rand = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const copy = structuredCloneModel(model);
  const edits = 1 + Math.floor(rand() * 3);
  for (let i = 0; i < edits; i++) pick(rand, EDITS)(copy, rand);
  return copy;
}
