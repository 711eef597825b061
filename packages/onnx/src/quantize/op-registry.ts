/**
 * Everything the ONNX adapter knows about each op, one entry per op family (the way onnxruntime's
 * quantizer keeps `registry.py` and torch.ao its backend config). The static planner, the QDQ and
 * QOperator emitters, dynamic and weight-only quantization and the support matrix's op lists all
 * read this table; the sets below are views of it.
 */

/** A constant input stored quantized, and the axis its per-channel scales run along. */
export interface WeightInput {
  readonly input: number;
  /** Per-channel axis given Gemm's transB and the weight's rank. */
  readonly axis: (transB: boolean, rank: number) => number;
}

/** One op family. */
export interface OpEntry {
  /**
   * Static quantization role: `compute` has its own parameters on float inputs and outputs;
   * `share` quantizes its data input and its outputs share those parameters (it runs on int8
   * directly); `removable` (Relu/Clip) is absorbed into the producer's output range when exact.
   */
  readonly static?: "compute" | "share" | "removable";
  /** Inputs that carry data (others are shapes, indices, conditions); default the first. */
  readonly dataInputs?: "all" | readonly number[];
  /** Static QDQ: the weight input (quantized as a constant, per-channel when asked) and bias input. */
  readonly staticWeight?: WeightInput;
  readonly bias?: number;
  /** QOperator can express it (a QLinear op, or a share op running on int8). */
  readonly qoperator?: boolean;
  /** Dynamic mode: the integer kernel, or int8 storage where onnxruntime has none. */
  readonly dynamic?: "MatMulInteger" | "ConvInteger" | "Gather" | "DynamicQuantizeLSTM" | "weight-only";
  /** Weight-only int8 storage: the constant inputs stored int8 behind DequantizeLinear. */
  readonly weightOnly?: readonly WeightInput[];
  /** int4: MatMulNBits, blocked DequantizeLinear (opset 21), or int8 when int4 has no form here. */
  readonly int4?: "MatMulNBits" | "blocked-dequantize" | "int8";
}

const outputChannels: WeightInput["axis"] = () => 0;
const secondAxis: WeightInput["axis"] = () => 1;
const lastAxis: WeightInput["axis"] = (_t, rank) => rank - 1;
const gemmColumns: WeightInput["axis"] = (transB) => (transB ? 0 : 1);
const recurrent: OpEntry = {
  weightOnly: [
    { input: 1, axis: secondAxis },
    { input: 2, axis: secondAxis },
  ],
  int4: "int8",
};

/** The registry. */
export const ONNX_OPS: Readonly<Record<string, OpEntry>> = {
  Conv: {
    static: "compute",
    dataInputs: [0, 1],
    staticWeight: { input: 1, axis: outputChannels },
    bias: 2,
    qoperator: true,
    dynamic: "ConvInteger",
    weightOnly: [{ input: 1, axis: outputChannels }],
    int4: "blocked-dequantize",
  },
  ConvTranspose: {
    static: "compute",
    dataInputs: [0, 1],
    staticWeight: { input: 1, axis: secondAxis },
    bias: 2,
    weightOnly: [{ input: 1, axis: secondAxis }],
    int4: "blocked-dequantize",
  },
  MatMul: {
    static: "compute",
    dataInputs: [0, 1],
    staticWeight: { input: 1, axis: lastAxis },
    qoperator: true,
    dynamic: "MatMulInteger",
    weightOnly: [{ input: 1, axis: lastAxis }],
    int4: "MatMulNBits",
  },
  Gemm: {
    static: "compute",
    dataInputs: [0, 1],
    staticWeight: { input: 1, axis: gemmColumns },
    bias: 2,
    qoperator: true,
    dynamic: "MatMulInteger",
    weightOnly: [{ input: 1, axis: gemmColumns }],
    int4: "MatMulNBits",
  },
  Gather: {
    static: "compute",
    dynamic: "Gather",
    weightOnly: [{ input: 0, axis: outputChannels }],
    int4: "int8",
  },
  LSTM: { ...recurrent, dynamic: "DynamicQuantizeLSTM" },
  GRU: { ...recurrent, dynamic: "weight-only" },
  RNN: { ...recurrent, dynamic: "weight-only" },
  Add: { static: "compute", dataInputs: "all", qoperator: true },
  Mul: { static: "compute", dataInputs: "all", qoperator: true },
  Concat: { static: "compute", dataInputs: "all", qoperator: true },
  AveragePool: { static: "compute", qoperator: true },
  GlobalAveragePool: { static: "compute", qoperator: true },
  Resize: { static: "compute" },
  Softmax: { static: "compute", qoperator: true },
  Sigmoid: { static: "compute", qoperator: true },
  LeakyRelu: { static: "compute", qoperator: true },
  HardSigmoid: { static: "compute" },
  Where: { static: "compute", dataInputs: [1, 2] },
  Transpose: { static: "share", qoperator: true },
  Reshape: { static: "share", qoperator: true },
  Flatten: { static: "share", qoperator: true },
  Squeeze: { static: "share", qoperator: true },
  Unsqueeze: { static: "share", qoperator: true },
  Split: { static: "share", qoperator: true },
  Slice: { static: "share", qoperator: true },
  Pad: { static: "share" },
  MaxPool: { static: "share", qoperator: true },
  Relu: { static: "removable" },
  Clip: { static: "removable" },
};

const ops = (keep: (e: OpEntry) => boolean): Set<string> =>
  new Set(
    Object.entries(ONNX_OPS)
      .filter(([, e]) => keep(e))
      .map(([op]) => op),
  );

/** Static roles (views of {@link ONNX_OPS}). */
export const COMPUTE_OPS: ReadonlySet<string> = ops((e) => e.static === "compute");
export const SHARE_OPS: ReadonlySet<string> = ops((e) => e.static === "share");
export const REMOVABLE_OPS: ReadonlySet<string> = ops((e) => e.static === "removable");
/** Ops the QOperator format can express (the rest stay float between Dequantize/Quantize). */
export const QOPERATOR_OPS: ReadonlySet<string> = ops((e) => e.qoperator === true);
/** Ops dynamic quantization touches. */
export const DYNAMIC_OPS: ReadonlySet<string> = ops((e) => e.dynamic !== undefined);

/** Static QDQ weight input position per op. */
export const WEIGHT_INPUT: Readonly<Record<string, number>> = Object.fromEntries(
  Object.entries(ONNX_OPS).flatMap(([op, e]) => (e.staticWeight ? [[op, e.staticWeight.input]] : [])),
);

/** Ops with an int32-quantizable bias input. */
export const BIAS_INPUT: Readonly<Record<string, number>> = Object.fromEntries(
  Object.entries(ONNX_OPS).flatMap(([op, e]) => (e.bias !== undefined ? [[op, e.bias]] : [])),
);

/** Weight-only int8: the constant inputs per op (output channels, embedding rows, gate rows). */
export const WEIGHT_ONLY_INPUTS: Readonly<Record<string, readonly WeightInput[]>> = Object.fromEntries(
  Object.entries(ONNX_OPS).flatMap(([op, e]) => (e.weightOnly ? [[op, e.weightOnly]] : [])),
);

/** Inputs that carry data (others are shapes, indices, conditions). */
export function dataInputs(opType: string, inputCount: number): number[] {
  const d = ONNX_OPS[opType]?.dataInputs;
  if (d === "all") return Array.from({ length: inputCount }, (_, i) => i);
  return d === undefined ? [0] : [...d];
}

/**
 * Every op type each approach can quantize (`--op-types` is checked against it, so a misspelt op
 * is an error rather than a run that quantizes nothing).
 */
export const QUANTIZABLE_OP_TYPES: Readonly<Record<"static" | "dynamic" | "weight-only", ReadonlySet<string>>> = {
  static: new Set([...COMPUTE_OPS, ...SHARE_OPS, ...REMOVABLE_OPS]),
  dynamic: DYNAMIC_OPS,
  "weight-only": ops((e) => e.weightOnly !== undefined),
};
