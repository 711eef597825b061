/**
 * Which ONNX ops the static quantizer touches, and how (after onnxruntime's QDQ/QOperator registries).
 * - compute: own quantization parameters on float inputs and outputs;
 * - share: data input quantized, outputs share its parameters (run on int8 directly);
 * - removable: Relu/Clip absorbed into the producer's output range when that is exact.
 */
export const COMPUTE_OPS = new Set([
  "Conv",
  "ConvTranspose",
  "MatMul",
  "Gemm",
  "Add",
  "Mul",
  "Concat",
  "AveragePool",
  "GlobalAveragePool",
  "Resize",
  "Softmax",
  "Sigmoid",
  "LeakyRelu",
  "HardSigmoid",
  "Where",
  "Gather",
]);

/** Ops whose output keeps the input's scale and zero point. */
export const SHARE_OPS = new Set([
  "Transpose",
  "Reshape",
  "Flatten",
  "Squeeze",
  "Unsqueeze",
  "Split",
  "Slice",
  "Pad",
  "MaxPool",
]);

/** Activations that can be folded into the preceding quantized op's output range. */
export const REMOVABLE_OPS = new Set(["Relu", "Clip"]);

/** Ops with a weight input and where it sits. */
export const WEIGHT_INPUT: Readonly<Record<string, number>> = { Conv: 1, ConvTranspose: 1, MatMul: 1, Gemm: 1 };

/**
 * Weight-only int8 storage: per op, which constant inputs become int8 behind DequantizeLinear and
 * the axis their per-channel scales run along (output channels, embedding rows, gate rows).
 * Gather's table is quantized per row so each token keeps its own scale; LSTM/GRU `W` and `R`
 * (`[directions, gates * hidden, ...]`) per gate row.
 */
export const WEIGHT_ONLY_INPUTS: Readonly<
  Record<string, readonly { readonly input: number; readonly axis: (transB: boolean, rank: number) => number }[]>
> = {
  Conv: [{ input: 1, axis: () => 0 }],
  ConvTranspose: [{ input: 1, axis: () => 1 }],
  MatMul: [{ input: 1, axis: (_t, rank) => rank - 1 }],
  Gemm: [{ input: 1, axis: (transB) => (transB ? 0 : 1) }],
  Gather: [{ input: 0, axis: () => 0 }],
  LSTM: [
    { input: 1, axis: () => 1 },
    { input: 2, axis: () => 1 },
  ],
  GRU: [
    { input: 1, axis: () => 1 },
    { input: 2, axis: () => 1 },
  ],
  RNN: [
    { input: 1, axis: () => 1 },
    { input: 2, axis: () => 1 },
  ],
};

/** Ops with an int32-quantizable bias input. */
export const BIAS_INPUT: Readonly<Record<string, number>> = { Conv: 2, ConvTranspose: 2, Gemm: 2 };

/** Inputs that carry data (others are shapes, indices, conditions). */
export function dataInputs(opType: string, inputCount: number): number[] {
  switch (opType) {
    case "Where":
      return [1, 2];
    case "Gather":
    case "Resize":
    case "Reshape":
    case "Squeeze":
    case "Unsqueeze":
    case "Slice":
    case "Pad":
    case "Split":
      return [0];
    case "Concat":
    case "Add":
    case "Mul":
      return Array.from({ length: inputCount }, (_, i) => i);
    case "Conv":
    case "ConvTranspose":
    case "Gemm":
    case "MatMul":
      return [0, 1];
    default:
      return [0];
  }
}

/**
 * Every op type each approach can quantize (`--op-types` is checked against it, so a misspelt op
 * is an error rather than a run that quantizes nothing).
 */
export const QUANTIZABLE_OP_TYPES: Readonly<Record<"static" | "dynamic" | "weight-only", ReadonlySet<string>>> = {
  static: new Set([...COMPUTE_OPS, ...SHARE_OPS, ...REMOVABLE_OPS]),
  dynamic: new Set(["MatMul", "Gemm", "Conv", "Gather"]),
  "weight-only": new Set(["Conv", "MatMul", "Gemm"]),
};
