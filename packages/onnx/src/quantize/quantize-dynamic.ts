import { type QuantScheme, resolveSettings, ZeropointError } from "@zeropoint/core";
import { attributes, GraphIndex, getAttribute, intAttribute, nodeLabel } from "../graph/graph-index.js";
import { preprocessGraph, pruneUnusedInitializers } from "../graph/preprocess.js";
import { subgraphsOf } from "../graph/subgraphs.js";
import { isFloat16Model, widenFloat16Compute } from "../model/float16-compute.js";
import { workingCopy } from "../model/model-io.js";
import type { OnnxGraph, OnnxModel, OnnxNode, OnnxTensor } from "../model/onnx-schema.js";
import { makeInt64Tensor, makeTensor, readFloat32, tensorDims } from "../model/tensor-data.js";
import { applyTargetCpu } from "../target/saturation-policy.js";
import { ONNX_OPS } from "./op-registry.js";
import { ensureOpset } from "./opset.js";
import { type CommonQuantizeOptions, type NodeSelection, recipeFromOptions, selectionReason } from "./options.js";
import type { QuantizeReport } from "./quantize-static.js";
import { quantizeWeightOnly } from "./quantize-weight-only.js";
import { quantizeWeightTensor } from "./weights.js";

/**
 * Ops dynamic quantization handles: the op registry's `dynamic` entries. LSTM becomes com.microsoft
 * DynamicQuantizeLSTM; GRU and RNN, which have no integer kernel in onnxruntime, get int8 weights
 * behind DequantizeLinear (weight-only storage) instead.
 */
export { DYNAMIC_OPS } from "./op-registry.js";

/** Ops dynamic mode gives an integer kernel (the rest of DYNAMIC_OPS is stored int8 afterwards). */
const INTEGER_OPS: ReadonlySet<string> = new Set(
  Object.entries(ONNX_OPS)
    .filter(([, e]) => e.dynamic !== undefined && e.dynamic !== "weight-only")
    .map(([op]) => op),
);

/** Ops dynamic mode stores as weight-only int8 because onnxruntime has no integer kernel for them. */
export const DYNAMIC_WEIGHT_ONLY_OPS: ReadonlySet<string> = new Set(
  Object.entries(ONNX_OPS)
    .filter(([, e]) => e.dynamic === "weight-only")
    .map(([op]) => op),
);

/** Options of {@link quantizeDynamic}. */
export interface DynamicQuantizeOptions extends CommonQuantizeOptions {
  /** Weight type of Conv weights (ConvInteger); default the global weight type. */
  readonly convWeightType?: "int8" | "uint8";
}

/**
 * Dynamic quantization (weights int8 offline, activations quantized at run time):
 * MatMul/Gemm with a constant weight become `DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul`
 * (the pattern onnxruntime fuses into DynamicQuantizeMatMul / MatMulIntegerToFloat), Gemm being
 * rewritten as MatMul + Add first; Conv becomes `DynamicQuantizeLinear -> ConvInteger -> Cast -> Mul
 * (-> Add bias)`, per-channel only with symmetric weights (one zero point, per-channel scales in the
 * Mul) because onnxruntime rejects per-channel zero points there; Gather on a constant table reads an
 * 8-bit table and dequantizes.
 */
export async function quantizeDynamic(
  input: OnnxModel | string | Uint8Array,
  options: DynamicQuantizeOptions = {},
): Promise<{ model: OnnxModel; report: QuantizeReport }> {
  const source = workingCopy(input);
  // A float16 model computes in float32 between Casts at its float16 inputs and outputs.
  if (isFloat16Model(source)) widenFloat16Compute(source);
  const { recipe, decision } = await applyTargetCpu(recipeFromOptions("dynamic", options), options);
  const model = ensureOpset(source, 11);
  const graph = model.graph as OnnxGraph;
  preprocessGraph(graph);
  const index = new GraphIndex(graph);
  const out: OnnxNode[] = [];
  const quantizedNodes: string[] = [];
  const floatNodes: QuantizeReport["floatNodes"] = [];
  let usesMicrosoft = false;
  // One DynamicQuantizeLinear per activation, shared by all its consumers.
  const dynamicInputs = new Map<string, { q: string; scale: string; zeroPoint: string }>();
  const quantizeActivation = (tensor: string) => {
    const existing = dynamicInputs.get(tensor);
    if (existing) return existing;
    const names = {
      q: index.uniqueName(`${tensor}_quantized`),
      scale: index.uniqueName(`${tensor}_scale`),
      zeroPoint: index.uniqueName(`${tensor}_zero_point`),
    };
    out.push({
      name: index.uniqueName(`${tensor}_QuantizeLinear`),
      opType: "DynamicQuantizeLinear",
      input: [tensor],
      output: [names.q, names.scale, names.zeroPoint],
      attribute: [],
    });
    dynamicInputs.set(tensor, names);
    return names;
  };
  const storeWeight = (name: string, weight: ReturnType<typeof quantizeWeightTensor>, scaleDims?: number[]) => {
    const values = index.uniqueName(`${name}_quantized`);
    const scale = index.uniqueName(`${name}_scale`);
    const zeroPoint = index.uniqueName(`${name}_zero_point`);
    const perChannel = weight.axis !== undefined;
    const zps = weight.qparams.zeroPoint;
    // onnxruntime takes one zero point for ConvInteger; symmetric weights share it.
    const zpDims = perChannel && scaleDims === undefined ? [zps.length] : [];
    const zpValues = zpDims.length === 0 ? [zps[0] as number] : Array.from(zps);
    graph.initializer.push(
      makeTensor(values, weight.dims, weight.values),
      makeTensor(
        scale,
        scaleDims ?? (perChannel ? [weight.qparams.scale.length] : []),
        Float32Array.from(weight.qparams.scale),
      ),
      makeTensor(
        zeroPoint,
        zpDims,
        weight.qparams.dtype === "uint8" ? Uint8Array.from(zpValues) : Int8Array.from(zpValues),
      ),
    );
    return { values, scale, zeroPoint };
  };

  for (const node of graph.node) {
    const op = node.opType ?? "";
    const reason = skipReason(node, index, recipe, options);
    if (reason !== undefined) {
      out.push(node);
      if (INTEGER_OPS.has(op)) floatNodes.push({ name: node.name ?? "", opType: op, reason });
      continue;
    }
    const scheme = resolveSettings(recipe, { opType: op, node: node.name ?? "" }).weight;
    if (op === "Gather") {
      const table = index.initializers.get(node.input[0] as string) as OnnxTensor;
      // A lookup table never reaches the U8S8 GEMM: no reduced range on the target's behalf.
      const tableScheme = { ...scheme, granularity: "per-tensor" as const };
      const w = quantizeWeightTensor(
        table,
        decision.automatic ? { ...tableScheme, reduceRange: false } : tableScheme,
        undefined,
      );
      const stored = storeWeight(node.input[0] as string, w);
      const gathered = index.uniqueName(`${node.output[0]}_quantized`);
      out.push({ ...node, input: [stored.values, ...node.input.slice(1)], output: [gathered] });
      out.push({
        name: index.uniqueName(`${node.name}_DequantizeLinear`),
        opType: "DequantizeLinear",
        input: [gathered, stored.scale, stored.zeroPoint],
        output: [node.output[0] as string],
        attribute: [],
      });
      quantizedNodes.push(node.name ?? "");
      continue;
    }
    if (op === "LSTM") {
      emitDynamicLstm(node);
      quantizedNodes.push(node.name ?? "");
      continue;
    }
    if (op === "Conv") {
      emitConvInteger(node, scheme, options.convWeightType);
      quantizedNodes.push(node.name ?? "");
      continue;
    }
    // MatMul, or Gemm rewritten as MatMul (+ Add).
    let weightName = node.input[1] as string;
    let bias: string | undefined;
    if (op === "Gemm") {
      const weight = index.initializers.get(weightName) as OnnxTensor;
      if (intAttribute(node, "transB", 0) === 1) {
        const dims = tensorDims(weight);
        const data = readFloat32(weight);
        const [rows, cols] = dims as [number, number];
        const transposed = new Float32Array(data.length);
        for (let r = 0; r < rows; r++)
          for (let c = 0; c < cols; c++) transposed[c * rows + r] = data[r * cols + c] as number;
        weightName = index.uniqueName(`${weightName}_transposed`);
        graph.initializer.push(makeTensor(weightName, [cols, rows], transposed));
        index.initializers.set(weightName, graph.initializer[graph.initializer.length - 1] as OnnxTensor);
      }
      bias = node.input[2] || undefined;
    }
    const weight = index.initializers.get(weightName) as OnnxTensor;
    const perChannel = scheme.granularity === "per-channel";
    const w = quantizeWeightTensor(weight, scheme, perChannel ? 1 : undefined);
    const stored = storeWeight(weightName, w);
    const a = quantizeActivation(node.input[0] as string);
    const label = node.name ?? op;
    const integer = index.uniqueName(`${label}_MatMulInteger_output`);
    const cast = index.uniqueName(`${label}_Cast_output`);
    const scales = index.uniqueName(`${label}_scales_mul`);
    const result = bias === undefined ? (node.output[0] as string) : index.uniqueName(`${label}_MatMul_output`);
    out.push({
      name: index.uniqueName(`${label}_MatMulInteger`),
      opType: "MatMulInteger",
      input: [a.q, stored.values, a.zeroPoint, stored.zeroPoint],
      output: [integer],
      attribute: [],
    });
    pushRescale(label, integer, cast, scales, a.scale, stored.scale, result);
    if (bias !== undefined) {
      out.push({
        name: index.uniqueName(`${label}_Add`),
        opType: "Add",
        input: [result, bias],
        output: [node.output[0] as string],
        attribute: [],
      });
    }
    quantizedNodes.push(node.name ?? "");
  }

  /**
   * The float tail after an integer op: `result = float(integer) * (activation scale * weight scale)`
   * (onnxruntime's dynamic quantizer emits the same Mul, Cast, Mul).
   */
  function pushRescale(
    label: string,
    integer: string,
    cast: string,
    scales: string,
    activationScale: string,
    weightScale: string,
    result: string,
  ): void {
    out.push(
      {
        name: index.uniqueName(`${label}_scales_Mul`),
        opType: "Mul",
        input: [activationScale, weightScale],
        output: [scales],
        attribute: [],
      },
      {
        name: index.uniqueName(`${label}_Cast`),
        opType: "Cast",
        input: [integer],
        output: [cast],
        attribute: attributes({ to: 1 }),
      },
      { name: index.uniqueName(`${label}_Mul`), opType: "Mul", input: [cast, scales], output: [result], attribute: [] },
    );
  }

  function emitConvInteger(node: OnnxNode, scheme: QuantScheme, convWeightType: "int8" | "uint8" | undefined): void {
    const weight = index.initializers.get(node.input[1] as string) as OnnxTensor;
    const dtype = convWeightType ?? scheme.dtype;
    const perChannel = scheme.granularity === "per-channel";
    // Per-channel needs one shared zero point: symmetric weights (0 for int8, the midpoint for uint8).
    const convScheme: QuantScheme = {
      ...scheme,
      dtype,
      symmetric: perChannel ? true : (scheme.symmetric ?? dtype === "int8"),
      // uint8 × uint8 is exact on every kernel: keep the full range the target policy would trim.
      ...(decision.automatic && dtype === "uint8" ? { reduceRange: false } : {}),
    };
    const w = quantizeWeightTensor(weight, convScheme, perChannel ? 0 : undefined);
    const channels = tensorDims(weight)[0] as number;
    const stored = storeWeight(node.input[1] as string, w, perChannel ? [1, channels, 1, 1] : []);
    const x = quantizeActivation(node.input[0] as string);
    const label = node.name ?? "Conv";
    const integer = index.uniqueName(`${label}_ConvInteger_output`);
    const cast = index.uniqueName(`${label}_Cast_output`);
    const scales = index.uniqueName(`${label}_scales_mul`);
    const biasName = node.input[2];
    const result = biasName ? index.uniqueName(`${label}_scaled_output`) : (node.output[0] as string);
    const convAttributes = node.attribute.filter(
      (a) => a.name !== "auto_pad" || getAttribute(node, "auto_pad")?.s !== undefined,
    );
    out.push({
      name: index.uniqueName(`${label}_ConvInteger`),
      opType: "ConvInteger",
      input: [x.q, stored.values, x.zeroPoint, stored.zeroPoint],
      output: [integer],
      attribute: convAttributes,
    });
    pushRescale(label, integer, cast, scales, x.scale, stored.scale, result);
    if (biasName) {
      const shape = index.uniqueName(`${label}_bias_shape`);
      const reshaped = index.uniqueName(`${label}_bias_reshaped`);
      graph.initializer.push(makeInt64Tensor(shape, [4], [1, -1, 1, 1]));
      out.push(
        {
          name: index.uniqueName(`${label}_bias_Reshape`),
          opType: "Reshape",
          input: [biasName, shape],
          output: [reshaped],
          attribute: [],
        },
        {
          name: index.uniqueName(`${label}_bias_Add`),
          opType: "Add",
          input: [result, reshaped],
          output: [node.output[0] as string],
          attribute: [],
        },
      );
    }
  }

  /**
   * LSTM -> DynamicQuantizeLSTM (onnxruntime's LSTMQuant): W [dirs, 4H, in] and R [dirs, 4H, H]
   * quantized int8 symmetric per gate row, stored transposed ([dirs, in, 4H], [dirs, H, 4H]) as the
   * kernel reads them, with [dirs, 4H] scales and zero points; X stays float (quantized inside).
   */
  function emitDynamicLstm(node: OnnxNode): void {
    const weights = [1, 2].map((k) => {
      const name = node.input[k] as string;
      const t = index.initializers.get(name) as OnnxTensor;
      const [dirs, rows, cols] = tensorDims(t) as [number, number, number];
      const flat = makeTensor(name, [dirs * rows, cols], readFloat32(t));
      const scheme: QuantScheme = { dtype: "int8", symmetric: true, granularity: "per-channel", axis: 0 };
      const q = quantizeWeightTensor(flat, scheme, 0);
      const transposed = new Int8Array(q.values.length);
      for (let d = 0; d < dirs; d++)
        for (let r = 0; r < rows; r++)
          for (let c = 0; c < cols; c++)
            transposed[(d * cols + c) * rows + r] = q.values[(d * rows + r) * cols + c] as number;
      const values = index.uniqueName(`${name}_quantized`);
      const scale = index.uniqueName(`${name}_scale`);
      const zeroPoint = index.uniqueName(`${name}_zero_point`);
      graph.initializer.push(
        makeTensor(values, [dirs, cols, rows], transposed),
        makeTensor(scale, [dirs, rows], Float32Array.from(q.qparams.scale)),
        makeTensor(zeroPoint, [dirs, rows], Int8Array.from(q.qparams.zeroPoint)),
      );
      return { values, scale, zeroPoint };
    });
    const [w, r] = weights as [(typeof weights)[0], (typeof weights)[0]];
    const optional = [3, 4, 5, 6, 7].map((k) => node.input[k] ?? "");
    out.push({
      ...node,
      name: index.uniqueName(`${node.name ?? "LSTM"}_quant`),
      opType: "DynamicQuantizeLSTM",
      domain: "com.microsoft",
      input: [node.input[0] as string, w.values, r.values, ...optional, w.scale, w.zeroPoint, r.scale, r.zeroPoint],
    });
    usesMicrosoft = true;
  }

  graph.node = out;
  pruneUnusedInitializers(graph);
  if (usesMicrosoft && !model.opsetImport.some((o) => o.domain === "com.microsoft"))
    model.opsetImport.push({ domain: "com.microsoft", version: 1 });
  // GRU/RNN: int8 weight storage (no integer kernel), as weight-only would store them.
  const recurrent = graph.node.filter(
    (n) =>
      DYNAMIC_WEIGHT_ONLY_OPS.has(n.opType ?? "") &&
      (n.domain ?? "") === "" &&
      selectionReason(n, options, recipe) === undefined,
  );
  // Bodies of If/Loop/Scan on a run-time condition: weights stored int8 there too.
  const bodies = graph.node.some((n) => subgraphsOf(n).length > 0);
  if (recurrent.length > 0 || bodies) {
    const stored = await quantizeWeightOnly(model, {
      weightType: "int8",
      perChannel: true,
      includeNodes: recurrent.map((n) => n.name ?? ""),
      allBodies: bodies,
    });
    quantizedNodes.push(...stored.report.quantizedNodes);
    return {
      model: stored.model,
      report: { approach: "dynamic", format: "IntegerOps", quantizedNodes, floatNodes, target: decision },
    };
  }
  return {
    model,
    report: { approach: "dynamic", format: "IntegerOps", quantizedNodes, floatNodes, target: decision },
  };
}

function skipReason(
  node: OnnxNode,
  index: GraphIndex,
  recipe: ReturnType<typeof recipeFromOptions>,
  selection: NodeSelection,
): string | undefined {
  const op = node.opType ?? "";
  if (!INTEGER_OPS.has(op) || (node.domain ?? "") !== "") return `${op} is not dynamically quantized`;
  const selected = selectionReason(node, selection, recipe);
  if (selected !== undefined) return selected;
  const isFloatConstant = (name: string | undefined) => {
    const t = name === undefined ? undefined : index.initializers.get(name);
    return t !== undefined && t.dataType === 1;
  };
  switch (op) {
    case "Gather":
      return isFloatConstant(node.input[0]) ? undefined : "Gather table is not a float constant";
    case "LSTM": {
      if (!isFloatConstant(node.input[1]) || !isFloatConstant(node.input[2])) return "W or R is not a float constant";
      if (intAttribute(node, "layout", 0) !== 0) return "LSTM with layout=1 (DynamicQuantizeLSTM takes layout 0)";
      if (getAttribute(node, "activations") !== undefined) return "LSTM with custom activations";
      return undefined;
    }
    case "Conv":
      if (node.input[0] !== undefined && index.initializers.has(node.input[0])) return "Conv input is constant";
      if (!isFloatConstant(node.input[1])) return "Conv weight is not a float constant";
      if (tensorDims(index.initializers.get(node.input[1] as string) as OnnxTensor).length !== 4)
        return "only 2-D convolutions";
      return node.input[2] && !isFloatConstant(node.input[2]) ? "Conv bias is not a float constant" : undefined;
    case "MatMul": {
      if (!isFloatConstant(node.input[1])) return "B is not a constant (MatMulConstBOnly)";
      return tensorDims(index.initializers.get(node.input[1] as string) as OnnxTensor).length === 2
        ? undefined
        : "B is not 2-D";
    }
    case "Gemm": {
      const alpha = getAttribute(node, "alpha")?.f;
      const beta = getAttribute(node, "beta")?.f;
      if (intAttribute(node, "transA", 0) !== 0) return "Gemm with transA";
      if ((alpha !== undefined && alpha !== null && alpha !== 1) || (beta !== undefined && beta !== null && beta !== 1))
        return "Gemm with alpha/beta != 1";
      if (!isFloatConstant(node.input[1])) return "B is not a constant";
      if (node.input[2] && !isFloatConstant(node.input[2])) return "C is not a constant";
      return undefined;
    }
    default:
      throw new ZeropointError("unsupported-op", `unexpected op ${nodeLabel(node)}`);
  }
}
