import { type IrGraph, type IrNode, type IrWeight, validateIrGraph, ZeropointError } from "@zeropoint/core";
import { attributes } from "../graph/graph-index.js";
import { DataType, type OnnxModel, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from "../model/onnx-schema.js";
import { makeInt64Tensor, makeTensor } from "../model/tensor-data.js";

const OPSET = 17;

function valueInfo(name: string, shape: readonly (number | null)[] | undefined): OnnxValueInfo {
  return {
    name,
    type: {
      tensorType: {
        elemType: DataType.FLOAT,
        ...(shape !== undefined
          ? {
              shape: {
                dim: shape.map((d, i) => (d === null ? { dimParam: i === 0 ? "batch" : `d${i}` } : { dimValue: d })),
              },
            }
          : {}),
      },
    },
  };
}

/**
 * Writes an IR graph as an ONNX model (opset 17): the inverse of `onnxToIr` for every IR op, so a
 * model built or edited as IR runs in onnxruntime. `linear` becomes Gemm with `transB = 1` (the IR
 * weight is `[out, in]`), `relu6` a Clip(0, 6), a constant `add`/`mul` operand an initializer.
 */
export function irToOnnx(graph: IrGraph): OnnxModel {
  validateIrGraph(graph);
  const nodes: OnnxNode[] = [];
  const initializers: OnnxTensor[] = [];
  const constant = (node: IrNode, key: string, w: IrWeight | undefined): string => {
    if (w === undefined) throw new ZeropointError("invalid-model", `IR node ${node.name}: missing weight ${key}`);
    const name = `${node.name}.${key}`;
    initializers.push(makeTensor(name, w.shape, w.data));
    return name;
  };
  const emit = (
    node: IrNode,
    opType: string,
    inputs: string[],
    attrs: Record<string, number | number[] | string | { float: number }> = {},
  ) => nodes.push({ name: node.name, opType, input: inputs, output: [node.output], attribute: attributes(attrs) });
  for (const node of graph.nodes) {
    const w = node.weights;
    const x = node.inputs[0] as string;
    switch (node.op) {
      case "conv2d":
      case "depthwise-conv2d":
        emit(
          node,
          "Conv",
          [x, constant(node, "weight", w.weight), ...(w.bias ? [constant(node, "bias", w.bias)] : [])],
          {
            strides: [...(node.attributes.strides ?? [1, 1])],
            pads: [...(node.attributes.pads ?? [0, 0, 0, 0])],
            dilations: [...(node.attributes.dilations ?? [1, 1])],
            group: node.attributes.group ?? 1,
          },
        );
        break;
      case "linear":
        emit(
          node,
          "Gemm",
          [x, constant(node, "weight", w.weight), ...(w.bias ? [constant(node, "bias", w.bias)] : [])],
          { transB: 1 },
        );
        break;
      case "matmul":
        emit(node, "MatMul", [...node.inputs]);
        break;
      case "batch-norm":
        emit(
          node,
          "BatchNormalization",
          [x, ...["scale", "bias", "mean", "variance"].map((k) => constant(node, k, w[k]))],
          {
            epsilon: { float: node.attributes.epsilon },
          },
        );
        break;
      case "relu":
        emit(node, "Relu", [x]);
        break;
      case "relu6": {
        const lo = `${node.name}.min`;
        const hi = `${node.name}.max`;
        initializers.push(makeTensor(lo, [], Float32Array.of(0)), makeTensor(hi, [], Float32Array.of(6)));
        emit(node, "Clip", [x, lo, hi]);
        break;
      }
      case "leaky-relu":
        emit(node, "LeakyRelu", [x], { alpha: { float: node.attributes.alpha } });
        break;
      case "sigmoid":
        emit(node, "Sigmoid", [x]);
        break;
      case "hard-sigmoid":
        emit(node, "HardSigmoid", [x], {
          alpha: { float: node.attributes.alpha },
          beta: { float: node.attributes.beta },
        });
        break;
      case "max-pool":
      case "avg-pool":
        emit(node, node.op === "max-pool" ? "MaxPool" : "AveragePool", [x], {
          kernel_shape: [...node.attributes.kernel],
          strides: [...(node.attributes.strides ?? node.attributes.kernel)],
          pads: [...(node.attributes.pads ?? [0, 0, 0, 0])],
        });
        break;
      case "global-avg-pool":
        emit(node, "GlobalAveragePool", [x]);
        break;
      case "flatten":
        emit(node, "Flatten", [x], { axis: node.attributes.axis ?? 1 });
        break;
      case "reshape": {
        const shape = `${node.name}.shape`;
        const dims = [...node.attributes.shape];
        initializers.push(makeInt64Tensor(shape, [dims.length], dims));
        emit(node, "Reshape", [x, shape]);
        break;
      }
      case "transpose":
        emit(node, "Transpose", [x], { perm: [...node.attributes.perm] });
        break;
      case "add":
      case "mul":
        emit(
          node,
          node.op === "add" ? "Add" : "Mul",
          w.other ? [x, constant(node, "other", w.other)] : [...node.inputs],
        );
        break;
      case "concat":
        emit(node, "Concat", [...node.inputs], { axis: node.attributes.axis });
        break;
      case "softmax":
        emit(node, "Softmax", [x], { axis: node.attributes.axis ?? -1 });
        break;
      case "layer-norm":
        emit(
          node,
          "LayerNormalization",
          [x, constant(node, "scale", w.scale), ...(w.bias ? [constant(node, "bias", w.bias)] : [])],
          {
            axis: node.attributes.axis ?? -1,
            epsilon: { float: node.attributes.epsilon },
          },
        );
        break;
      default:
        throw new ZeropointError(
          "unsupported-op",
          `IR node ${(node as IrNode).name}: no ONNX mapping for ${(node as IrNode).op}`,
        );
    }
  }
  return {
    irVersion: 8,
    opsetImport: [{ domain: "", version: OPSET }],
    producerName: "zeropoint",
    graph: {
      name: graph.name,
      node: nodes,
      initializer: initializers,
      input: graph.inputs.map((i) => valueInfo(i.name, i.shape)),
      output: graph.outputs.map((o) => valueInfo(o, undefined)),
      valueInfo: [],
    },
  };
}
