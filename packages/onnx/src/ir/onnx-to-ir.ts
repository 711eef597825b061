import {
  type IrAttributeMap,
  type IrGraph,
  type IrNode,
  type IrOp,
  type IrWeight,
  validateIrGraph,
  ZeropointError,
} from "@zeropoint/core";
import { floatAttribute, getAttribute, intAttribute, intsAttribute } from "../graph/graph-index.js";
import { runtimeInputs } from "../model/input-specs.js";
import type { OnnxModel, OnnxNode, OnnxTensor } from "../model/onnx-schema.js";
import { readFloat32, readIntegers, tensorDims, valueInfoDims } from "../model/tensor-data.js";

function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c] as number;
  return out;
}

function outsideIr(node: OnnxNode, why = "is outside the IR op set"): ZeropointError {
  return new ZeropointError("unsupported-op", `node ${node.name || node.output[0]} (op ${node.opType}) ${why}`, {
    details: { node: node.name, opType: node.opType },
  });
}

/**
 * Converts an ONNX model whose ops all lie in core's IR op set (Conv, Gemm, MatMul, BatchNormalization,
 * Relu, Clip(0, 6), LeakyRelu, Sigmoid, HardSigmoid, MaxPool, AveragePool, GlobalAveragePool,
 * Flatten, Reshape with a constant shape, Transpose, Add, Mul, Concat, Softmax, LayerNormalization)
 * into an {@link IrGraph}. Weights are copied; the model is not modified.
 *
 * @throws ZeropointError `unsupported-op` naming the first node (and its op) outside the IR.
 */
export function onnxToIr(model: OnnxModel, name = "model"): IrGraph {
  const graph = model.graph;
  if (!graph) throw new ZeropointError("invalid-model", "ONNX model has no graph");
  const initializers = new Map<string, OnnxTensor>(graph.initializer.map((t) => [t.name as string, t]));
  const weight = (node: OnnxNode, index: number, label: string): IrWeight => {
    const t = initializers.get(node.input[index] as string);
    if (t === undefined) throw outsideIr(node, `has a non-constant ${label} (input ${node.input[index]})`);
    return { shape: tensorDims(t), data: Float32Array.from(readFloat32(t)) };
  };
  const optionalWeight = (node: OnnxNode, index: number, label: string): IrWeight | undefined =>
    node.input[index] === undefined || node.input[index] === "" ? undefined : weight(node, index, label);
  const nodes: IrNode[] = [];
  // Generic in the op, so each call's attributes are checked against that op's attribute type.
  const emit = <K extends IrOp>(
    node: OnnxNode,
    op: K,
    inputs: string[],
    attributes: IrAttributeMap[K] = {} as IrAttributeMap[K],
    weights: Record<string, IrWeight | undefined> = {},
  ) => {
    const clean: Record<string, IrWeight> = {};
    for (const [k, v] of Object.entries(weights)) if (v !== undefined) clean[k] = v;
    nodes.push({
      name: node.name || (node.output[0] as string),
      op,
      inputs,
      output: node.output[0] as string,
      attributes,
      weights: clean,
    } as IrNode);
  };
  const dataInputs = (node: OnnxNode) => node.input.filter((i) => i !== "" && !initializers.has(i));
  for (const node of graph.node) {
    const domain = node.domain ?? "";
    if (domain !== "" && domain !== "ai.onnx") throw outsideIr(node);
    const x = node.input[0] as string;
    switch (node.opType) {
      case "Conv": {
        const w = weight(node, 1, "weight");
        const group = intAttribute(node, "group", 1);
        if (w.shape.length !== 4) throw outsideIr(node, "is not a 2-D convolution");
        const cPerGroup = w.shape[1] as number;
        const pads = intsAttribute(node, "pads", [0, 0, 0, 0]);
        const autoPad = getAttribute(node, "auto_pad");
        if (autoPad?.s && new TextDecoder().decode(autoPad.s) !== "NOTSET") throw outsideIr(node, "uses auto_pad");
        const attributes = {
          strides: intsAttribute(node, "strides", [1, 1]),
          pads: [pads[0] ?? 0, pads[1] ?? 0, pads[2] ?? 0, pads[3] ?? 0],
          dilations: intsAttribute(node, "dilations", [1, 1]),
          group,
        };
        // One input channel per group (and C = group): a depthwise convolution.
        const depthwise = group > 1 && cPerGroup === 1;
        const bias = optionalWeight(node, 2, "bias");
        emit(node, depthwise ? "depthwise-conv2d" : "conv2d", [x], attributes, {
          weight: w,
          ...(bias ? { bias } : {}),
        });
        break;
      }
      case "Gemm": {
        if (
          intAttribute(node, "transA", 0) !== 0 ||
          floatAttribute(node, "alpha", 1) !== 1 ||
          floatAttribute(node, "beta", 1) !== 1
        ) {
          throw outsideIr(node, "uses transA/alpha/beta, which the IR's linear does not have");
        }
        const w = weight(node, 1, "weight");
        const [a, b] = w.shape as [number, number];
        // IR linear weights are [out, in]; Gemm without transB stores [in, out].
        const linearWeight =
          intAttribute(node, "transB", 0) === 1 ? w : { shape: [b, a], data: transpose2d(w.data, a, b) };
        const bias = optionalWeight(node, 2, "bias");
        emit(node, "linear", [x], {}, { weight: linearWeight, ...(bias ? { bias } : {}) });
        break;
      }
      case "MatMul": {
        const b = node.input[1] as string;
        if (initializers.has(b)) {
          const w = weight(node, 1, "weight");
          if (w.shape.length !== 2) throw outsideIr(node, "multiplies by a constant that is not a matrix");
          const [k, n] = w.shape as [number, number];
          emit(node, "linear", [x], {}, { weight: { shape: [n, k], data: transpose2d(w.data, k, n) } });
        } else emit(node, "matmul", [x, b]);
        break;
      }
      case "BatchNormalization":
        emit(
          node,
          "batch-norm",
          [x],
          { epsilon: floatAttribute(node, "epsilon", 1e-5) },
          {
            scale: weight(node, 1, "scale"),
            bias: weight(node, 2, "bias"),
            mean: weight(node, 3, "mean"),
            variance: weight(node, 4, "variance"),
          },
        );
        break;
      case "Relu":
        emit(node, "relu", [x]);
        break;
      case "Clip": {
        const lo = node.input[1] ? initializers.get(node.input[1]) : undefined;
        const hi = node.input[2] ? initializers.get(node.input[2]) : undefined;
        const min = lo ? (readFloat32(lo)[0] as number) : floatAttribute(node, "min", Number.NEGATIVE_INFINITY);
        const max = hi ? (readFloat32(hi)[0] as number) : floatAttribute(node, "max", Number.POSITIVE_INFINITY);
        if (min === 0 && max === 6) emit(node, "relu6", [x]);
        else if (min === 0 && max === Number.POSITIVE_INFINITY) emit(node, "relu", [x]);
        else throw outsideIr(node, `clips to [${min}, ${max}], only ReLU/ReLU6 clips are in the IR`);
        break;
      }
      case "LeakyRelu":
        emit(node, "leaky-relu", [x], { alpha: floatAttribute(node, "alpha", 0.01) });
        break;
      case "Sigmoid":
        emit(node, "sigmoid", [x]);
        break;
      case "HardSigmoid":
        emit(node, "hard-sigmoid", [x], {
          alpha: floatAttribute(node, "alpha", 0.2),
          beta: floatAttribute(node, "beta", 0.5),
        });
        break;
      case "MaxPool":
      case "AveragePool": {
        if (intAttribute(node, "ceil_mode", 0) !== 0) throw outsideIr(node, "uses ceil_mode");
        const kernel = intsAttribute(node, "kernel_shape", []);
        const pads = intsAttribute(node, "pads", [0, 0, 0, 0]);
        emit(node, node.opType === "MaxPool" ? "max-pool" : "avg-pool", [x], {
          kernel,
          strides: intsAttribute(node, "strides", kernel),
          pads: [pads[0] ?? 0, pads[1] ?? 0, pads[2] ?? 0, pads[3] ?? 0],
        });
        break;
      }
      case "GlobalAveragePool":
        emit(node, "global-avg-pool", [x]);
        break;
      case "Flatten":
        emit(node, "flatten", [x], { axis: intAttribute(node, "axis", 1) });
        break;
      case "Reshape": {
        const shape = initializers.get(node.input[1] as string);
        if (shape === undefined) throw outsideIr(node, "has a computed target shape");
        emit(node, "reshape", [x], { shape: readIntegers(shape) });
        break;
      }
      case "Transpose":
        emit(node, "transpose", [x], { perm: intsAttribute(node, "perm", []) });
        break;
      case "Add":
      case "Mul": {
        const op = node.opType === "Add" ? "add" : "mul";
        const data = dataInputs(node);
        if (data.length === 2) emit(node, op, data);
        else if (data.length === 1) {
          const constantIndex = node.input.findIndex((i) => initializers.has(i));
          emit(node, op, data, {}, { other: weight(node, constantIndex, "operand") });
        } else throw outsideIr(node, "has only constant inputs");
        break;
      }
      case "Concat":
        if (node.input.some((i) => initializers.has(i))) throw outsideIr(node, "concatenates a constant");
        emit(node, "concat", [...node.input], { axis: intAttribute(node, "axis", 1) });
        break;
      case "Softmax":
        emit(node, "softmax", [x], { axis: intAttribute(node, "axis", -1) });
        break;
      case "LayerNormalization": {
        const bias = optionalWeight(node, 2, "bias");
        emit(
          node,
          "layer-norm",
          [x],
          { axis: intAttribute(node, "axis", -1), epsilon: floatAttribute(node, "epsilon", 1e-5) },
          {
            scale: weight(node, 1, "scale"),
            ...(bias ? { bias } : {}),
          },
        );
        break;
      }
      default:
        throw outsideIr(node);
    }
  }
  const inputs = runtimeInputs(model).map((v) => ({
    name: v.name as string,
    shape: valueInfoDims(v).map((d) => (typeof d === "number" ? d : null)),
  }));
  const ir: IrGraph = { name, inputs, outputs: graph.output.map((o) => o.name as string), nodes };
  validateIrGraph(ir);
  return ir;
}
