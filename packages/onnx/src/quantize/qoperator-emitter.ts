import { ZeropointError } from "@zeropoint/core";
import { attributes, intAttribute } from "../graph/graph-index.js";
import { pruneUnusedInitializers } from "../graph/preprocess.js";
import type { OnnxGraph, OnnxModel, OnnxNode, OnnxTensor } from "../model/onnx-schema.js";
import { makeTensor } from "../model/tensor-data.js";
import { ConstantQuantizer, type QuantizedConstant } from "./constant-quantizer.js";
import { SHARE_OPS } from "./op-registry.js";
import type { ActivationParams, StaticPlan } from "./static-plan.js";

const MS = "com.microsoft";

export { QOPERATOR_OPS } from "./op-registry.js";

/**
 * Emits a QOperator model: quantized ops (QLinearConv, QLinearMatMul and the com.microsoft QGemm,
 * QLinearAdd, QLinearMul, QLinearSoftmax, QLinearConcat, QLinearAveragePool,
 * QLinearGlobalAveragePool, QLinearSigmoid, QLinearLeakyRelu) read and write 8-bit tensors; shape
 * ops and MaxPool run on them directly. A float value is materialized (DequantizeLinear, keeping the
 * original name) only where a float node or a graph output needs it, and an 8-bit value
 * (QuantizeLinear) only where a quantized node needs one.
 */
export function emitQOperator(model: OnnxModel, plan: StaticPlan): { quantizedNodes: string[] } {
  const graph = model.graph as OnnxGraph;
  const { index, params } = plan;
  const constants = new ConstantQuantizer(graph, index);
  const out: OnnxNode[] = [];
  const floatAvailable = new Set<string>([...graph.input.map((v) => v.name ?? ""), ...index.initializers.keys(), ""]);
  const quantizedValue = new Map<string, string>();
  const paramNames = new Map<string, { scale: string; zeroPoint: string }>();
  const quantizedNodes: string[] = [];
  let usesMicrosoft = false;

  const paramsOf = (tensor: string): ActivationParams => {
    const p = params.get(tensor);
    if (p === undefined) throw new ZeropointError("invalid-model", `no quantization parameters for ${tensor}`);
    return p;
  };
  const names = (tensor: string): { scale: string; zeroPoint: string } => {
    const p = paramsOf(tensor);
    const owner = p.sharedWith ?? tensor;
    const existing = paramNames.get(owner);
    if (existing) return existing;
    const scale = index.uniqueName(`${owner}_scale`);
    const zeroPoint = index.uniqueName(`${owner}_zero_point`);
    graph.initializer.push(
      makeTensor(scale, [], Float32Array.of(p.scale)),
      makeTensor(zeroPoint, [], p.dtype === "int8" ? Int8Array.of(p.zeroPoint) : Uint8Array.of(p.zeroPoint)),
    );
    const entry = { scale, zeroPoint };
    paramNames.set(owner, entry);
    return entry;
  };
  const quantized = (tensor: string): string => {
    const existing = quantizedValue.get(tensor);
    if (existing) return existing;
    if (!floatAvailable.has(tensor))
      throw new ZeropointError("invalid-model", `tensor ${tensor} is used before it is defined`);
    const { scale, zeroPoint } = names(tensor);
    const q = index.uniqueName(`${tensor}_quantized`);
    out.push({
      name: index.uniqueName(`${tensor}_QuantizeLinear`),
      opType: "QuantizeLinear",
      input: [tensor, scale, zeroPoint],
      output: [q],
      attribute: [],
    });
    quantizedValue.set(tensor, q);
    return q;
  };
  const float = (tensor: string): string => {
    if (floatAvailable.has(tensor)) return tensor;
    const q = quantizedValue.get(tensor);
    if (q === undefined) throw new ZeropointError("invalid-model", `tensor ${tensor} is used before it is defined`);
    const { scale, zeroPoint } = names(tensor);
    out.push({
      name: index.uniqueName(`${tensor}_DequantizeLinear`),
      opType: "DequantizeLinear",
      input: [q, scale, zeroPoint],
      output: [tensor],
      attribute: [],
    });
    floatAvailable.add(tensor);
    return tensor;
  };
  const operand = (tensor: string): string[] => {
    const { scale, zeroPoint } = names(tensor);
    return [quantized(tensor), scale, zeroPoint];
  };
  const constantOperand = (
    node: OnnxNode,
    tensor: string,
    asActivation: boolean,
  ): { c: QuantizedConstant; inputs: string[] } => {
    const scheme = asActivation ? { dtype: plan.activationScheme.dtype, symmetric: false } : plan.weightScheme(node);
    const c = constants.weight(node, tensor, scheme, asActivation);
    return { c, inputs: [c.values, c.scale, c.zeroPoint] };
  };
  const input = (node: OnnxNode, position: number, asActivationConstant: boolean): string[] => {
    const name = node.input[position] as string;
    return index.initializers.has(name) ? constantOperand(node, name, asActivationConstant).inputs : operand(name);
  };
  const outputTensor = (node: OnnxNode, position: number): string => {
    const o = node.output[position] as string;
    return plan.removedActivations.get(o) ?? o;
  };
  const emitQuantized = (
    node: OnnxNode,
    opType: string,
    inputs: string[],
    attrs: OnnxNode["attribute"],
    domain?: string,
  ) => {
    const tensor = outputTensor(node, 0);
    const q = index.uniqueName(`${tensor}_quantized`);
    out.push({
      name: node.name ?? index.uniqueName(opType),
      opType,
      input: inputs,
      output: [q],
      attribute: attrs,
      ...(domain ? { domain } : {}),
    });
    if (domain === MS) usesMicrosoft = true;
    quantizedValue.set(tensor, q);
    quantizedNodes.push(node.name ?? "");
  };

  for (const { node, role } of plan.nodes) {
    if (role === "removed") continue;
    const op = node.opType ?? "";
    if (role === "float") {
      node.input = node.input.map((i) => (i === "" ? i : float(i)));
      out.push(node);
      for (const o of node.output) floatAvailable.add(o);
      continue;
    }
    if (role === "share" || SHARE_OPS.has(op)) {
      const inputs = node.input.map((i, k) => (k === 0 ? quantized(i) : i === "" ? i : float(i)));
      const outputs = node.output.map((o) => {
        const q = index.uniqueName(`${o}_quantized`);
        quantizedValue.set(o, q);
        return q;
      });
      out.push({ ...node, input: inputs, output: outputs });
      quantizedNodes.push(node.name ?? "");
      continue;
    }
    const y = outputTensor(node, 0);
    const yParams = () => {
      const { scale, zeroPoint } = names(y);
      return [scale, zeroPoint];
    };
    switch (op) {
      case "Conv": {
        const x = operand(node.input[0] as string);
        const w = constantOperand(node, node.input[1] as string, false);
        let weight = w.c;
        let bias: string[] = [];
        if (node.input[2]) {
          const b = constants.bias(
            node.input[2],
            paramsOf(node.input[0] as string).scale,
            weight,
            index.initializers.get(node.input[1] as string) as OnnxTensor,
          );
          weight = b.weight;
          bias = [b.values];
        }
        emitQuantized(
          node,
          "QLinearConv",
          [...x, weight.values, weight.scale, weight.zeroPoint, ...yParams(), ...bias],
          node.attribute,
        );
        break;
      }
      case "Gemm": {
        const a = operand(node.input[0] as string);
        const bName = node.input[1] as string;
        if (!index.initializers.has(bName)) {
          const b = operand(bName);
          emitQuantized(
            node,
            "QGemm",
            [...a, ...b, "", ...yParams()],
            node.attribute.filter((x) => x.name !== "beta"),
            MS,
          );
          break;
        }
        const w = constantOperand(node, bName, false);
        let weight = w.c;
        let bias = "";
        if (node.input[2]) {
          const b = constants.bias(
            node.input[2],
            paramsOf(node.input[0] as string).scale,
            weight,
            index.initializers.get(bName) as OnnxTensor,
          );
          weight = b.weight;
          bias = b.values;
        }
        emitQuantized(
          node,
          "QGemm",
          [...a, weight.values, weight.scale, weight.zeroPoint, bias, ...yParams()],
          node.attribute.filter((x) => x.name !== "beta"),
          MS,
        );
        break;
      }
      case "MatMul":
        emitQuantized(node, "QLinearMatMul", [...input(node, 0, true), ...input(node, 1, false), ...yParams()], []);
        break;
      case "Add":
      case "Mul":
        emitQuantized(
          node,
          op === "Add" ? "QLinearAdd" : "QLinearMul",
          [...input(node, 0, true), ...input(node, 1, true), ...yParams()],
          [],
          MS,
        );
        break;
      case "Softmax":
        emitQuantized(
          node,
          "QLinearSoftmax",
          [...operand(node.input[0] as string), ...yParams()],
          [...attributes({ axis: intAttribute(node, "axis", -1), opset: 13 })],
          MS,
        );
        break;
      case "Concat": {
        const parts = node.input.flatMap((i) =>
          index.initializers.has(i) ? constantOperand(node, i, true).inputs : operand(i),
        );
        emitQuantized(node, "QLinearConcat", [...yParams(), ...parts], node.attribute, MS);
        break;
      }
      case "AveragePool":
        emitQuantized(
          node,
          "QLinearAveragePool",
          [...operand(node.input[0] as string), ...yParams()],
          node.attribute,
          MS,
        );
        break;
      case "GlobalAveragePool":
        emitQuantized(
          node,
          "QLinearGlobalAveragePool",
          [...operand(node.input[0] as string), ...yParams()],
          attributes({ channels_last: 0 }),
          MS,
        );
        break;
      case "Sigmoid":
        emitQuantized(node, "QLinearSigmoid", [...operand(node.input[0] as string), ...yParams()], [], MS);
        break;
      case "LeakyRelu":
        emitQuantized(
          node,
          "QLinearLeakyRelu",
          [...operand(node.input[0] as string), ...yParams()],
          node.attribute,
          MS,
        );
        break;
      default:
        throw new ZeropointError("unsupported-op", `QOperator has no quantized form of ${op} (node ${node.name})`);
    }
  }
  for (const o of graph.output) float(o.name ?? "");
  graph.node = out;
  pruneUnusedInitializers(graph);
  if (usesMicrosoft && !model.opsetImport.some((o) => o.domain === MS))
    model.opsetImport.push({ domain: MS, version: 1 });
  return { quantizedNodes };
}
