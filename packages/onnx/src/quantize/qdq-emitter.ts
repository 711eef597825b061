import { attributes } from "../graph/graph-index.js";
import { pruneUnusedInitializers } from "../graph/preprocess.js";
import type { OnnxGraph, OnnxNode, OnnxTensor } from "../model/onnx-schema.js";
import { makeTensor } from "../model/tensor-data.js";
import { ConstantQuantizer } from "./constant-quantizer.js";
import { BIAS_INPUT, dataInputs, WEIGHT_INPUT } from "./op-registry.js";
import type { ActivationParams, StaticPlan } from "./static-plan.js";

function zeroPointArray(p: ActivationParams): Int8Array | Uint8Array | Int16Array | Uint16Array {
  switch (p.dtype) {
    case "int8":
      return Int8Array.of(p.zeroPoint);
    case "int16":
      return Int16Array.of(p.zeroPoint);
    case "uint16":
      return Uint16Array.of(p.zeroPoint);
    default:
      return Uint8Array.of(p.zeroPoint);
  }
}

/** 16-bit Q/DQ below opset 21 live in the com.microsoft domain. */
function qdqDomain(p: ActivationParams, opset: number): string | undefined {
  return (p.dtype === "int16" || p.dtype === "uint16") && opset < 21 ? "com.microsoft" : undefined;
}

/**
 * Emits a QDQ model: QuantizeLinear/DequantizeLinear pairs on the quantized activations, int8
 * weights behind DequantizeLinear (per-channel along the op's axis), int32 biases, Relu/Clip folded
 * where the plan says so. Node and tensor names follow onnxruntime's quantizer.
 */
export function emitQdq(
  graph: OnnxGraph,
  plan: StaticPlan,
  opset: number,
  target: "node" | "web" = "node",
): { quantizedNodes: string[] } {
  const { index, params } = plan;
  const constants = new ConstantQuantizer(graph, index);
  const out: OnnxNode[] = [];
  const dq = new Map<string, string>(); // tensor -> name of its dequantized value
  const scaleNames = new Map<string, { scale: string; zeroPoint: string }>();
  const quantizedNodes: string[] = [];

  const paramTensors = (tensor: string): { scale: string; zeroPoint: string } => {
    const p = params.get(tensor) as ActivationParams;
    const owner = p.sharedWith ?? tensor;
    const existing = scaleNames.get(owner);
    if (existing) return existing;
    const scale = index.uniqueName(`${owner}_scale`);
    const zeroPoint = index.uniqueName(`${owner}_zero_point`);
    graph.initializer.push(
      makeTensor(scale, [], Float32Array.of(p.scale)),
      makeTensor(zeroPoint, [], zeroPointArray(p)),
    );
    const names = { scale, zeroPoint };
    scaleNames.set(owner, names);
    return names;
  };

  /** Adds Q -> DQ after a tensor; returns the name consumers should read. */
  const addPair = (tensor: string, source: string, dequantized: string): void => {
    const p = params.get(tensor) as ActivationParams;
    const { scale, zeroPoint } = paramTensors(tensor);
    const qOut = index.uniqueName(`${tensor}_QuantizeLinear_Output`);
    const domain = qdqDomain(p, opset);
    out.push(
      {
        name: index.uniqueName(`${tensor}_QuantizeLinear`),
        opType: "QuantizeLinear",
        input: [source, scale, zeroPoint],
        output: [qOut],
        attribute: [],
        ...(domain ? { domain } : {}),
      },
      {
        name: index.uniqueName(`${tensor}_DequantizeLinear`),
        opType: "DequantizeLinear",
        input: [qOut, scale, zeroPoint],
        output: [dequantized],
        attribute: [],
        ...(domain ? { domain } : {}),
      },
    );
    dq.set(tensor, dequantized);
  };

  const quantizeOutput = (node: OnnxNode, position: number): void => {
    const tensor = node.output[position] as string;
    if (!params.has(tensor)) return;
    if (index.graphOutputs.has(tensor)) {
      // Keep the graph output's name on the dequantized value, as onnxruntime does.
      const input = index.uniqueName(`${tensor}_QuantizeLinear_Input`);
      node.output[position] = input;
      addPair(tensor, input, tensor);
    } else addPair(tensor, tensor, index.uniqueName(`${tensor}_DequantizeLinear_Output`));
  };

  const dequantizeConstant = (
    c: { values: string; scale: string; zeroPoint: string; axis?: number | undefined },
    label: string,
  ): string => {
    const output = index.uniqueName(`${label}_DequantizeLinear_Output`);
    out.push({
      name: index.uniqueName(`${label}_DequantizeLinear`),
      opType: "DequantizeLinear",
      input: c.zeroPoint === "" ? [c.values, c.scale] : [c.values, c.scale, c.zeroPoint],
      output: [output],
      attribute: c.axis === undefined ? [] : attributes({ axis: c.axis }),
    });
    return output;
  };

  for (const input of graph.input)
    if (params.has(input.name ?? ""))
      addPair(input.name as string, input.name as string, index.uniqueName(`${input.name}_DequantizeLinear_Output`));

  for (const { node, role } of plan.nodes) {
    if (role === "removed") continue;
    const op = node.opType ?? "";
    if (role === "compute") {
      quantizedNodes.push(node.name ?? "");
      const weightIndex = WEIGHT_INPUT[op];
      const biasIndex = BIAS_INPUT[op];
      const data = new Set(dataInputs(op, node.input.length));
      let weightConst: ReturnType<ConstantQuantizer["weight"]> | undefined;
      const rewired = [...node.input];
      for (let i = 0; i < node.input.length; i++) {
        const name = node.input[i] as string;
        if (name === "") continue;
        const constant = index.initializers.get(name);
        if (constant !== undefined && i === biasIndex) continue;
        if (constant !== undefined && data.has(i) && (constant.dataType === 1 || constant.dataType === 10)) {
          // Weights get the node's weight scheme; other float constants (Add/Mul operands) per-tensor.
          const isWeight = i === weightIndex;
          const c = constants.weight(node, name, plan.weightScheme(node), !isWeight);
          if (isWeight) weightConst = c;
          rewired[i] = dequantizeConstant(c, name);
          continue;
        }
        const replacement = dq.get(name);
        if (replacement !== undefined) rewired[i] = replacement;
      }
      if (
        biasIndex !== undefined &&
        node.input[biasIndex] &&
        index.initializers.has(node.input[biasIndex] as string) &&
        weightConst
      ) {
        const inputScale = params.get(node.input[0] as string)?.scale;
        const weightSource = index.initializers.get(node.input[weightIndex as number] as string) as OnnxTensor;
        if (inputScale !== undefined && (op !== "Gemm" || isUnitBeta(node))) {
          const bias = constants.bias(node.input[biasIndex] as string, inputScale, weightConst, weightSource);
          // onnxruntime-web (WebGPU/JSEP) rejects a zero point on an int32 DequantizeLinear; it is 0 anyway.
          rewired[biasIndex] = dequantizeConstant(
            {
              ...bias,
              ...(target === "web" ? { zeroPoint: "" } : {}),
              axis: bias.weight.axis === undefined ? undefined : 0,
            },
            node.input[biasIndex] as string,
          );
        }
      }
      node.input = rewired;
      for (const [input, output] of plan.removedActivations) {
        const position = node.output.indexOf(input);
        if (position >= 0) node.output[position] = output;
      }
      out.push(node);
      for (let o = 0; o < node.output.length; o++) quantizeOutput(node, o);
      continue;
    }
    // share and float nodes read the dequantized values of quantized tensors; a float node whose
    // output feeds a quantized op gets the Q/DQ pair on that output.
    node.input = node.input.map((name) => dq.get(name) ?? name);
    out.push(node);
    if (role === "share") quantizedNodes.push(node.name ?? "");
    for (let o = 0; o < node.output.length; o++) quantizeOutput(node, o);
  }
  graph.node = out;
  pruneUnusedInitializers(graph);
  return { quantizedNodes };
}

function isUnitBeta(node: OnnxNode): boolean {
  const beta = node.attribute.find((a) => a.name === "beta");
  return beta?.f === undefined || beta.f === null || beta.f === 1;
}
