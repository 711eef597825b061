import { getAttribute } from "../graph/graph-index.js";
import { DataType, type OnnxGraph, type OnnxNode, toNumber } from "../model/onnx-schema.js";

const BOOL_OUTPUT = new Set([
  "Equal",
  "Less",
  "LessOrEqual",
  "Greater",
  "GreaterOrEqual",
  "Not",
  "And",
  "Or",
  "Xor",
  "IsNaN",
  "IsInf",
]);
const INT64_OUTPUT = new Set(["Shape", "Size", "ArgMax", "ArgMin", "NonZero"]);

/**
 * The element type of every value a graph defines or reads: declared types (inputs, outputs,
 * value_info, initializers) first, then per-op rules for node outputs in graph order. `outer` gives
 * the types of values enclosing graphs define. A value no rule and no declaration types is absent.
 *
 * Why not shape inference: models over 2 GB cannot go through onnx's, and the rules needed to tell
 * float from non-float values are few — an output either follows its data input, or an attribute
 * or a fixed type sets it.
 */
export function valueTypes(graph: OnnxGraph, outer: ReadonlyMap<string, number> = new Map()): Map<string, number> {
  const types = new Map(outer);
  for (const t of graph.initializer) if (t.dataType !== undefined) types.set(t.name ?? "", t.dataType);
  const declared = new Map<string, number>();
  for (const v of [...graph.input, ...graph.output, ...(graph.valueInfo ?? [])]) {
    const t = v.type?.tensorType?.elemType;
    if (t !== undefined && t !== 0) declared.set(v.name ?? "", t);
  }
  for (const v of graph.input) {
    const t = declared.get(v.name ?? "");
    if (t !== undefined) types.set(v.name ?? "", t);
  }
  for (const node of graph.node) {
    const inferred = outputTypes(node, (name) => types.get(name));
    node.output.forEach((o, k) => {
      if (o === "") return;
      const t = declared.get(o) ?? inferred[k];
      if (t !== undefined) types.set(o, t);
    });
  }
  return types;
}

/** Output element types of one node from its inputs' types and attributes (undefined: unknown). */
export function outputTypes(node: OnnxNode, typeOf: (name: string) => number | undefined): (number | undefined)[] {
  const op = node.opType ?? "";
  const input = (k: number) => typeOf(node.input[k] ?? "");
  const intAttr = (name: string) => {
    const a = getAttribute(node, name);
    return a?.i === undefined || a.i === null ? undefined : toNumber(a.i);
  };
  const all = (t: number | undefined) => node.output.map(() => t);
  if (BOOL_OUTPUT.has(op)) return all(DataType.BOOL);
  if (INT64_OUTPUT.has(op)) return all(DataType.INT64);
  switch (op) {
    case "Cast":
      return [intAttr("to")];
    case "CastLike":
      return [input(1)];
    case "Constant": {
      const a = node.attribute[0];
      if (a?.t) return [a.t.dataType];
      if (a?.name === "value_float" || a?.name === "value_floats") return [DataType.FLOAT];
      if (a?.name === "value_int" || a?.name === "value_ints") return [DataType.INT64];
      return [undefined];
    }
    case "ConstantOfShape":
      return [getAttribute(node, "value")?.t?.dataType ?? DataType.FLOAT];
    case "EyeLike":
    case "RandomNormalLike":
    case "RandomUniformLike":
    case "Bernoulli":
      return [intAttr("dtype") ?? input(0)];
    case "RandomNormal":
    case "RandomUniform":
      return [intAttr("dtype") ?? DataType.FLOAT];
    case "Multinomial":
      return [intAttr("dtype") ?? DataType.INT32];
    case "QuantizeLinear":
      return [node.input[2] ? input(2) : (intAttr("output_dtype") ?? DataType.UINT8)];
    case "DequantizeLinear":
      return [input(1)];
    case "DynamicQuantizeLinear":
      return [DataType.UINT8, DataType.FLOAT, DataType.UINT8];
    case "MatMulInteger":
    case "ConvInteger":
      return [DataType.INT32];
    case "QLinearConv":
    case "QLinearMatMul":
      return [input(node.input.length - 1)];
    case "Where":
      return [input(1)];
    case "OneHot":
      return [input(2)];
    case "TopK":
    case "MaxPool":
      return [input(0), DataType.INT64];
    case "Unique":
      return [input(0), DataType.INT64, DataType.INT64, DataType.INT64];
    case "Dropout":
      return [input(0), DataType.BOOL];
    case "LayerNormalization":
      return [input(0), intAttr("stash_type") ?? DataType.FLOAT, intAttr("stash_type") ?? DataType.FLOAT];
    case "GatherBlockQuantized":
      return [input(2)];
    case "MatMulIntegerToFloat":
      return [input(2)];
    case "If":
      return bodyOutputs(node, "then_branch", 0);
    case "Loop":
      return bodyOutputs(node, "body", 1);
    case "Scan":
      return bodyOutputs(node, "body", 0);
    default:
      // QLinear* contrib ops write the type of their output zero point (their last input).
      if (op.startsWith("QLinear")) return all(input(node.input.length - 1));
      return all(input(0));
  }
}

function bodyOutputs(node: OnnxNode, attribute: string, skip: number): (number | undefined)[] {
  const body = getAttribute(node, attribute)?.g;
  const outputs = body?.output.slice(skip) ?? [];
  return node.output.map((_, k) => {
    const t = outputs[k]?.type?.tensorType?.elemType;
    return t === 0 ? undefined : t;
  });
}
