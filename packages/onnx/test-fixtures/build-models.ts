import { seededRandom } from "@zeropoint/test-helpers";
import { attributes } from "../src/graph/graph-index.js";
import { AttributeType, DataType, type OnnxModel, type OnnxNode, type OnnxTensor } from "../src/model/onnx-schema.js";
import { makeTensor } from "../src/model/tensor-data.js";

function randomTensor(name: string, dims: number[], seed: number, scale = 0.5): OnnxTensor {
  const rand = seededRandom(seed);
  const n = dims.reduce((a, b) => a * b, 1);
  return makeTensor(
    name,
    dims,
    Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale),
  );
}

function io(name: string, dims: (number | string)[]) {
  return {
    name,
    type: {
      tensorType: {
        elemType: DataType.FLOAT,
        shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function constantNode(output: string, tensor: OnnxTensor): OnnxNode {
  return {
    name: `${output}_Constant`,
    opType: "Constant",
    input: [],
    output: [output],
    attribute: [{ name: "value", type: AttributeType.TENSOR, t: { ...tensor, name: "" } }],
  };
}

/**
 * A small CNN whose weights are Constant nodes and whose BatchNormalization is not folded:
 * input [N,1,8,8] -> Conv(Constant W, b) -> BatchNormalization -> Relu -> Flatten -> Gemm(Constant W, b).
 */
export function constantsAndBatchNormModel(): OnnxModel {
  return {
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }],
    producerName: "zeropoint-test",
    graph: {
      name: "constants_bn",
      input: [io("input", ["batch", 1, 8, 8])],
      output: [io("logits", ["batch", 10])],
      valueInfo: [],
      initializer: [
        randomTensor("bn_scale", [4], 3, 0.3),
        makeTensor("bn_bias", [4], Float32Array.of(0.1, -0.2, 0.05, 0)),
        makeTensor("bn_mean", [4], Float32Array.of(0.02, -0.01, 0.03, 0)),
        makeTensor("bn_var", [4], Float32Array.of(0.5, 1.5, 0.8, 1.1)),
      ],
      node: [
        constantNode("conv_w", randomTensor("", [4, 1, 3, 3], 1)),
        constantNode("conv_b", randomTensor("", [4], 2, 0.1)),
        {
          name: "conv",
          opType: "Conv",
          input: ["input", "conv_w", "conv_b"],
          output: ["conv_out"],
          attribute: attributes({ pads: [1, 1, 1, 1], kernel_shape: [3, 3] }),
        },
        {
          name: "bn",
          opType: "BatchNormalization",
          input: ["conv_out", "bn_scale", "bn_bias", "bn_mean", "bn_var"],
          output: ["bn_out"],
          attribute: [{ name: "epsilon", type: AttributeType.FLOAT, f: 1e-5 }],
        },
        { name: "relu", opType: "Relu", input: ["bn_out"], output: ["relu_out"], attribute: [] },
        {
          name: "flatten",
          opType: "Flatten",
          input: ["relu_out"],
          output: ["flat"],
          attribute: attributes({ axis: 1 }),
        },
        constantNode("fc_w", randomTensor("", [10, 256], 4, 0.1)),
        constantNode("fc_b", randomTensor("", [10], 5, 0.1)),
        {
          name: "fc",
          opType: "Gemm",
          input: ["flat", "fc_w", "fc_b"],
          output: ["logits"],
          attribute: attributes({ transB: 1 }),
        },
      ],
    },
  };
}

/**
 * An opset-9 model using the attribute forms that later opsets moved to inputs:
 * input [N,1,6,6] -> Conv -> Clip(min=0, max=6 attributes) -> Pad(pads attribute) -> Flatten -> Gemm
 * -> Unsqueeze(axes attribute) -> output [N,1,10].
 */
export function opset9Model(): OnnxModel {
  return {
    irVersion: 4,
    opsetImport: [{ domain: "", version: 9 }],
    producerName: "zeropoint-test",
    graph: {
      name: "opset9",
      input: [io("input", ["batch", 1, 6, 6])],
      output: [io("logits", ["batch", 1, 10])],
      valueInfo: [],
      initializer: [
        randomTensor("conv_w", [3, 1, 3, 3], 7),
        randomTensor("conv_b", [3], 8, 0.1),
        randomTensor("fc_w", [10, 192], 9, 0.1),
        randomTensor("fc_b", [10], 10, 0.1),
      ],
      node: [
        {
          name: "conv",
          opType: "Conv",
          input: ["input", "conv_w", "conv_b"],
          output: ["conv_out"],
          attribute: attributes({ pads: [1, 1, 1, 1], kernel_shape: [3, 3] }),
        },
        {
          name: "clip",
          opType: "Clip",
          input: ["conv_out"],
          output: ["clip_out"],
          attribute: [
            { name: "min", type: AttributeType.FLOAT, f: 0 },
            { name: "max", type: AttributeType.FLOAT, f: 6 },
          ],
        },
        {
          name: "pad",
          opType: "Pad",
          input: ["clip_out"],
          output: ["pad_out"],
          attribute: [
            ...attributes({ pads: [0, 0, 1, 1, 0, 0, 1, 1], mode: "constant" }),
            { name: "value", type: AttributeType.FLOAT, f: 0 },
          ],
        },
        {
          name: "flatten",
          opType: "Flatten",
          input: ["pad_out"],
          output: ["flat"],
          attribute: attributes({ axis: 1 }),
        },
        {
          name: "fc",
          opType: "Gemm",
          input: ["flat", "fc_w", "fc_b"],
          output: ["fc_out"],
          attribute: attributes({ transB: 1 }),
        },
        {
          name: "unsqueeze",
          opType: "Unsqueeze",
          input: ["fc_out"],
          output: ["logits"],
          attribute: attributes({ axes: [1] }),
        },
      ],
    },
  };
}

/** Deterministic calibration batches for a single input of per-sample shape `shape`. */
export function randomBatches(shape: number[], batches: number, rows: number, seed = 42) {
  const rand = seededRandom(seed);
  const per = shape.reduce((a, b) => a * b, 1);
  return Array.from({ length: batches }, () => ({
    input: { data: Float32Array.from({ length: rows * per }, () => rand()), dims: [rows, ...shape] },
  }));
}

/** input [N,4] -> Gemm(W tiny, bias huge) -> output: the int32 bias would overflow without a weight-scale raise. */
export function hugeBiasModel(): OnnxModel {
  return {
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }],
    graph: {
      name: "huge_bias",
      input: [io("input", ["batch", 4])],
      output: [io("y", ["batch", 2])],
      valueInfo: [],
      initializer: [
        makeTensor("w", [2, 4], Float32Array.of(1e-9, -2e-9, 3e-9, 1e-9, 2e-9, 1e-9, -1e-9, 4e-9)),
        makeTensor("b", [2], Float32Array.of(5, -4.5)),
      ],
      node: [
        { name: "fc", opType: "Gemm", input: ["input", "w", "b"], output: ["y"], attribute: attributes({ transB: 1 }) },
      ],
    },
  };
}

/** Conv -> If(cond: then Relu / else Identity) and a custom-domain node feeding nothing quantized. */
export function controlFlowModel(withCustomOp: boolean): OnnxModel {
  const branch = (op: string): import("../src/model/onnx-schema.js").OnnxGraph => ({
    name: `${op}_branch`,
    input: [],
    output: [io(`${op}_out`, ["batch", 2, 4, 4])],
    valueInfo: [],
    initializer: [],
    node: [{ name: `${op}_node`, opType: op, input: ["conv_out"], output: [`${op}_out`], attribute: [] }],
  });
  return {
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }, ...(withCustomOp ? [{ domain: "com.example", version: 1 }] : [])],
    graph: {
      name: "control_flow",
      input: [io("input", ["batch", 1, 4, 4])],
      output: [io("y", ["batch", 2, 4, 4]), ...(withCustomOp ? [io("z", ["batch", 2, 4, 4])] : [])],
      valueInfo: [],
      initializer: [randomTensor("w", [2, 1, 3, 3], 11), makeTensor("cond", [], Uint8Array.of(1), DataType.BOOL)],
      node: [
        {
          name: "conv",
          opType: "Conv",
          input: ["input", "w"],
          output: ["conv_out"],
          attribute: attributes({ pads: [1, 1, 1, 1] }),
        },
        {
          name: "if",
          opType: "If",
          input: ["cond"],
          output: ["y"],
          attribute: [
            { name: "then_branch", type: AttributeType.GRAPH, g: branch("Relu") },
            { name: "else_branch", type: AttributeType.GRAPH, g: branch("Identity") },
          ],
        },
        ...(withCustomOp
          ? [
              {
                name: "custom",
                opType: "MyOp",
                domain: "com.example",
                input: ["conv_out"],
                output: ["z"],
                attribute: [],
              },
            ]
          : []),
      ],
    },
  };
}
