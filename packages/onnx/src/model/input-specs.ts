import { type ModelInputSpec, type TensorDtype, ZeropointError } from "@zeropoint/core";
import { DataType, type OnnxModel, type OnnxValueInfo, toNumber } from "./onnx-schema.js";

/** ONNX element types a model input can have here, by code. */
const INPUT_DTYPES: Readonly<Record<number, TensorDtype>> = {
  [DataType.FLOAT]: "float32",
  [DataType.FLOAT16]: "float16",
  [DataType.DOUBLE]: "float64",
  [DataType.INT64]: "int64",
  [DataType.INT32]: "int32",
  [DataType.INT16]: "int16",
  [DataType.INT8]: "int8",
  [DataType.UINT8]: "uint8",
  [DataType.UINT16]: "uint16",
  [DataType.BOOL]: "bool",
};

/** The tensor dtype of an ONNX element type code, or undefined (strings, complex, bfloat16...). */
export function tensorDtypeOf(elemType: number | undefined): TensorDtype | undefined {
  return elemType === undefined ? undefined : INPUT_DTYPES[elemType];
}

/** The ONNX element type code of a tensor dtype. */
export function elemTypeOf(dtype: TensorDtype): number {
  for (const [code, d] of Object.entries(INPUT_DTYPES)) if (d === dtype) return Number(code);
  throw new ZeropointError("invalid-dtype", `no ONNX element type for ${dtype}`);
}

/** The graph's runtime inputs: declared inputs that are not initializers (older exporters list both). */
export function runtimeInputs(model: OnnxModel): OnnxValueInfo[] {
  const graph = model.graph;
  if (!graph) throw new ZeropointError("invalid-model", "model has no graph");
  const initializers = new Set(graph.initializer.map((t) => t.name ?? ""));
  return graph.input.filter((v) => !initializers.has(v.name ?? ""));
}

function declaredDims(v: OnnxValueInfo): (number | string)[] {
  return (v.type?.tensorType?.shape?.dim ?? []).map((d, axis) => {
    if (d.dimValue !== undefined && d.dimValue !== null && toNumber(d.dimValue) > 0) return toNumber(d.dimValue);
    return d.dimParam ? d.dimParam : `${v.name}_dim${axis}`;
  });
}

/**
 * Each runtime input as the model declares it. The batch axis is the axis holding the symbol that
 * the graph's first output carries on axis 0 (so `h0 [1, batch, 96]` batches on axis 1), else the
 * symbol most inputs share, else axis 0. A model with every dim fixed batches on axis 0 with its
 * fixed size (a batch-1 export is fed sample by sample); a rank-0 input has no batch axis. Integer
 * inputs that index an embedding table (Gather's indices on an initializer) get the table's row
 * count as their vocabulary size, so synthetic ids stay valid.
 */
export function modelInputSpecs(model: OnnxModel): ModelInputSpec[] {
  const inputs = runtimeInputs(model);
  const dims = inputs.map(declaredDims);
  const batchSymbol = pickBatchSymbol(model, dims);
  const vocab = vocabularySizes(model);
  return inputs.map((v, k) => {
    const name = v.name ?? "";
    const elem = v.type?.tensorType?.elemType;
    const dtype = tensorDtypeOf(elem ?? undefined);
    if (dtype === undefined) {
      throw new ZeropointError(
        "invalid-dtype",
        `input ${name} has ONNX element type ${elem ?? "none"}, which zeropoint cannot feed (it takes float, integer and bool inputs)`,
        { details: { input: name } },
      );
    }
    const d = dims[k] as (number | string)[];
    const shapeUnknown = v.type?.tensorType?.shape === undefined || v.type?.tensorType?.shape === null;
    let batchAxis: number | undefined = shapeUnknown ? 0 : undefined;
    if (d.length > 0) {
      const symbolic = batchSymbol === undefined ? -1 : d.indexOf(batchSymbol);
      batchAxis = symbolic >= 0 ? symbolic : d.some((x) => typeof x === "string") ? firstSymbolic(d) : 0;
    }
    const vocabSize = vocab.get(name);
    return {
      name,
      dtype,
      dims: d,
      batchAxis,
      ...(vocabSize !== undefined ? { vocabSize } : {}),
      ...(shapeUnknown ? { shapeUnknown: true } : {}),
    };
  });
}

function firstSymbolic(d: readonly (number | string)[]): number {
  const i = d.findIndex((x) => typeof x === "string");
  return i < 0 ? 0 : i;
}

function pickBatchSymbol(model: OnnxModel, dims: readonly (number | string)[][]): string | undefined {
  const out = model.graph?.output[0]?.type?.tensorType?.shape?.dim?.[0];
  if (out?.dimParam) {
    const s = out.dimParam;
    if (dims.some((d) => d.includes(s))) return s;
  }
  const counts = new Map<string, number>();
  for (const d of dims) for (const x of new Set(d)) if (typeof x === "string") counts.set(x, (counts.get(x) ?? 0) + 1);
  let best: string | undefined;
  let bestCount = 0;
  for (const d of dims) {
    const s = d[0];
    if (typeof s === "string" && (counts.get(s) ?? 0) > bestCount) {
      best = s;
      bestCount = counts.get(s) ?? 0;
    }
  }
  return best;
}

/** Inputs used (possibly through Cast/Unsqueeze/Reshape) as Gather indices into an initializer table. */
function vocabularySizes(model: OnnxModel): Map<string, number> {
  const graph = model.graph as NonNullable<OnnxModel["graph"]>;
  const tables = new Map<string, number>();
  for (const t of graph.initializer) {
    const first = t.dims?.[0];
    if (t.dims?.length === 2 && first !== undefined) tables.set(t.name ?? "", toNumber(first));
  }
  const origin = new Map<string, string>();
  for (const v of runtimeInputs(model)) origin.set(v.name ?? "", v.name ?? "");
  const out = new Map<string, number>();
  for (const node of graph.node) {
    const passThrough = ["Cast", "Unsqueeze", "Reshape", "Squeeze", "Identity", "Flatten"];
    const src = origin.get(node.input[0] ?? "");
    if (src !== undefined && passThrough.includes(node.opType ?? "")) for (const o of node.output) origin.set(o, src);
    if (node.opType === "Gather") {
      const table = tables.get(node.input[0] ?? "");
      const from = origin.get(node.input[1] ?? "");
      if (table !== undefined && from !== undefined) out.set(from, Math.min(out.get(from) ?? table, table));
    }
  }
  return out;
}
