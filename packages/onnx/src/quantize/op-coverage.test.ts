import { OutputComparison } from "@zeropoint/core";
import { describe, expect, it } from "vitest";
import { calibrationSourceFromBatches } from "../calibration/calibration-source.js";
import { encodeModel } from "../model/model-io.js";
import type { OnnxModel, OnnxNode, OnnxTensor } from "../model/onnx-schema.js";
import { makeTensor } from "../model/tensor-data.js";
import { loadOnnxruntime } from "../runtime/onnxruntime.js";
import { ONNX_OPS } from "./op-registry.js";
import { quantizeDynamic } from "./quantize-dynamic.js";
import { quantizeStatic } from "./quantize-static.js";
import { quantizeWeightOnly } from "./quantize-weight-only.js";

/**
 * Every op the registry (and so the support matrix) lists, in a small model of its own, through
 * every approach the registry claims for it: the op's node must be quantized (or, for Relu/Clip,
 * folded away), and onnxruntime must run the result. A registry entry no test model exercises
 * fails here instead of reaching the matrix unproven.
 */
let seed = 7;
const random = (n: number, scale = 0.5) =>
  Float32Array.from({ length: n }, () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed / 4294967296 - 0.5) * 2 * scale;
  });
const int64 = (name: string, values: number[]) => makeTensor(name, [values.length], BigInt64Array.from(values, BigInt));
const attr = (name: string, v: number | number[] | string): OnnxNode["attribute"][number] =>
  (typeof v === "string"
    ? { name, type: 3, s: new TextEncoder().encode(v) }
    : Array.isArray(v)
      ? { name, type: 7, ints: v }
      : Number.isInteger(v)
        ? { name, type: 2, i: v }
        : { name, type: 1, f: v }) as OnnxNode["attribute"][number];

interface OpCase {
  readonly nodes: OnnxNode[];
  readonly initializers: OnnxTensor[];
  readonly input: { name: string; dims: number[]; elemType?: number };
  readonly output: string;
}

const node = (
  opType: string,
  input: string[],
  output: string[],
  attribute: OnnxNode["attribute"] = [],
  name = opType,
): OnnxNode => ({ name, opType, input, output, attribute }) as OnnxNode;

/** A MatMul (2-D, [2, 8]) or Conv (4-D, [2, 4, 6, 6]) in front, so the op under test reads a quantized tensor. */
const prefix2d = () => ({
  nodes: [node("MatMul", ["x", "w0"], ["m"], [], "prefix")],
  initializers: [makeTensor("w0", [8, 8], random(64))],
  input: { name: "x", dims: [2, 8] },
});
const prefix4d = () => ({
  nodes: [node("Conv", ["x", "c0"], ["m"], [attr("pads", [1, 1, 1, 1])], "prefix")],
  initializers: [makeTensor("c0", [4, 4, 3, 3], random(144))],
  input: { name: "x", dims: [2, 4, 6, 6] },
});
const after = (p: ReturnType<typeof prefix2d>, target: OnnxNode, extra: OnnxTensor[] = []): OpCase => ({
  nodes: [...p.nodes, target],
  initializers: [...p.initializers, ...extra],
  input: p.input,
  output: target.output[0] as string,
});
const recurrentCase = (op: "LSTM" | "GRU" | "RNN"): OpCase => {
  const gates = op === "LSTM" ? 4 : op === "GRU" ? 3 : 1;
  const h = 6;
  return {
    nodes: [node(op, ["x", "W", "R", "B"], ["Y", "Y_h"], [attr("hidden_size", h)], "target")],
    initializers: [
      makeTensor("W", [1, gates * h, 4], random(gates * h * 4)),
      makeTensor("R", [1, gates * h, h], random(gates * h * h)),
      makeTensor("B", [1, 2 * gates * h], random(2 * gates * h, 0.1)),
    ],
    input: { name: "x", dims: [3, 2, 4] },
    output: "Y_h",
  };
};

const CASES: Record<string, () => OpCase> = {
  Conv: () => ({
    nodes: [node("Conv", ["x", "w", "b"], ["y"], [attr("pads", [1, 1, 1, 1])], "target")],
    initializers: [makeTensor("w", [4, 4, 3, 3], random(144)), makeTensor("b", [4], random(4, 0.1))],
    input: { name: "x", dims: [2, 4, 6, 6] },
    output: "y",
  }),
  ConvTranspose: () => ({
    nodes: [node("ConvTranspose", ["x", "w", "b"], ["y"], [attr("strides", [2, 2])], "target")],
    initializers: [makeTensor("w", [4, 4, 2, 2], random(64)), makeTensor("b", [4], random(4, 0.1))],
    input: { name: "x", dims: [2, 4, 6, 6] },
    output: "y",
  }),
  MatMul: () => ({
    nodes: [node("MatMul", ["x", "w"], ["y"], [], "target")],
    initializers: [makeTensor("w", [8, 8], random(64))],
    input: { name: "x", dims: [2, 8] },
    output: "y",
  }),
  Gemm: () => ({
    nodes: [node("Gemm", ["x", "w", "b"], ["y"], [attr("transB", 1)], "target")],
    initializers: [makeTensor("w", [8, 8], random(64)), makeTensor("b", [8], random(8, 0.1))],
    input: { name: "x", dims: [2, 8] },
    output: "y",
  }),
  Gather: () => ({
    nodes: [node("Gather", ["table", "ids"], ["y"], [], "target")],
    initializers: [makeTensor("table", [16, 8], random(128))],
    input: { name: "ids", dims: [2, 3], elemType: 7 },
    output: "y",
  }),
  LSTM: () => recurrentCase("LSTM"),
  GRU: () => recurrentCase("GRU"),
  RNN: () => recurrentCase("RNN"),
  Add: () => after(prefix2d(), node("Add", ["m", "m"], ["y"], [], "target")),
  Mul: () => after(prefix2d(), node("Mul", ["m", "m"], ["y"], [], "target")),
  Concat: () => after(prefix2d(), node("Concat", ["m", "m"], ["y"], [attr("axis", 1)], "target")),
  AveragePool: () => after(prefix4d(), node("AveragePool", ["m"], ["y"], [attr("kernel_shape", [2, 2])], "target")),
  GlobalAveragePool: () => after(prefix4d(), node("GlobalAveragePool", ["m"], ["y"], [], "target")),
  MaxPool: () => after(prefix4d(), node("MaxPool", ["m"], ["y"], [attr("kernel_shape", [2, 2])], "target")),
  Resize: () =>
    after(prefix4d(), node("Resize", ["m", "", "scales"], ["y"], [attr("mode", "nearest")], "target"), [
      makeTensor("scales", [4], Float32Array.of(1, 1, 2, 2)),
    ]),
  Softmax: () => after(prefix2d(), node("Softmax", ["m"], ["y"], [attr("axis", -1)], "target")),
  Sigmoid: () => after(prefix2d(), node("Sigmoid", ["m"], ["y"], [], "target")),
  LeakyRelu: () => after(prefix2d(), node("LeakyRelu", ["m"], ["y"], [attr("alpha", 0.1)], "target")),
  HardSigmoid: () => after(prefix2d(), node("HardSigmoid", ["m"], ["y"], [], "target")),
  Where: () =>
    after(prefix2d(), node("Where", ["cond", "m", "m2"], ["y"], [], "target"), [
      makeTensor(
        "cond",
        [2, 8],
        Uint8Array.from({ length: 16 }, (_, i) => i % 2),
        9,
      ),
      makeTensor("m2", [2, 8], random(16)),
    ]),
  Transpose: () => after(prefix2d(), node("Transpose", ["m"], ["y"], [attr("perm", [1, 0])], "target")),
  Reshape: () => after(prefix2d(), node("Reshape", ["m", "shape"], ["y"], [], "target"), [int64("shape", [4, 4])]),
  Flatten: () => after(prefix4d(), node("Flatten", ["m"], ["y"], [], "target")),
  Unsqueeze: () => after(prefix2d(), node("Unsqueeze", ["m", "axes"], ["y"], [], "target"), [int64("axes", [1])]),
  Squeeze: () => {
    const p = prefix2d();
    return after(
      { ...p, nodes: [...p.nodes, node("Unsqueeze", ["m", "axes"], ["u"], [], "unsqueeze")] },
      node("Squeeze", ["u", "axes"], ["y"], [], "target"),
      [int64("axes", [1])],
    );
  },
  Split: () => after(prefix2d(), node("Split", ["m"], ["y", "y2"], [attr("axis", 1)], "target")),
  Slice: () =>
    after(prefix2d(), node("Slice", ["m", "starts", "ends", "axes"], ["y"], [], "target"), [
      int64("starts", [1]),
      int64("ends", [5]),
      int64("axes", [1]),
    ]),
  Pad: () => after(prefix2d(), node("Pad", ["m", "pads"], ["y"], [], "target"), [int64("pads", [0, 1, 0, 1])]),
  Relu: () => after(prefix2d(), node("Relu", ["m"], ["y"], [], "target")),
  Clip: () =>
    after(prefix2d(), node("Clip", ["m", "lo", "hi"], ["y"], [], "target"), [
      makeTensor("lo", [], Float32Array.of(0)),
      makeTensor("hi", [], Float32Array.of(6)),
    ]),
};

function modelOf(c: OpCase): OnnxModel {
  const elem = c.input.elemType ?? 1;
  return {
    irVersion: 8,
    opsetImport: [{ domain: "", version: 13 }],
    graph: {
      name: "op",
      node: c.nodes,
      initializer: c.initializers,
      input: [
        {
          name: c.input.name,
          type: { tensorType: { elemType: elem, shape: { dim: c.input.dims.map((d) => ({ dimValue: d })) } } },
        },
      ],
      output: [{ name: c.output, type: { tensorType: { elemType: 1 } } }],
      valueInfo: [],
    },
  } as unknown as OnnxModel;
}

function sample(c: OpCase) {
  const n = c.input.dims.reduce((a, b) => a * b, 1);
  return c.input.elemType === 7
    ? {
        dtype: "int64" as const,
        data: BigInt64Array.from({ length: n }, (_, i) => BigInt((i * 5) % 16)),
        dims: c.input.dims,
      }
    : { dtype: "float32" as const, data: random(n, 1), dims: c.input.dims };
}

/** The model's output on a fixed sample (the same sample for float and quantized). */
async function output(model: OnnxModel, c: OpCase): Promise<Float32Array> {
  const ort = await loadOnnxruntime();
  const session = await ort.InferenceSession.create(encodeModel(model));
  try {
    seed = 99;
    const s = sample(c);
    const out = await session.run({ [c.input.name]: new ort.Tensor(s.dtype, s.data as never, [...s.dims]) } as never);
    return Float32Array.from((out[c.output] as unknown as { data: Float32Array }).data);
  } finally {
    await session.release();
  }
}

type Approach = "static-qdq" | "static-qoperator" | "dynamic" | "weight-only" | "int4";
const claims = Object.entries(ONNX_OPS).flatMap(([op, e]) => {
  const out: [string, Approach][] = [];
  if (e.static !== undefined) out.push([op, "static-qdq"]);
  if (e.qoperator) out.push([op, "static-qoperator"]);
  if (e.dynamic !== undefined) out.push([op, "dynamic"]);
  if (e.weightOnly !== undefined) out.push([op, "weight-only"]);
  if (e.int4 !== undefined) out.push([op, "int4"]);
  return out;
});

describe("every op in the registry, through every approach it claims", () => {
  it("has a test model", () => {
    expect(Object.keys(ONNX_OPS).filter((op) => CASES[op] === undefined)).toEqual([]);
  });

  it.each(claims)("%s: %s", async (op, approach) => {
    const c = (CASES[op] as () => OpCase)();
    const model = modelOf(c);
    // Calibrated on the very sample it is checked on: this tests each op's arithmetic, not how
    // ranges generalize.
    seed = 99;
    const calibrationData = calibrationSourceFromBatches([{ [c.input.name]: sample(c) }]);
    const entry = ONNX_OPS[op];
    const result =
      approach === "static-qdq" || approach === "static-qoperator"
        ? await quantizeStatic(model, { calibrationData, format: approach === "static-qdq" ? "qdq" : "qoperator" })
        : approach === "dynamic"
          ? await quantizeDynamic(model)
          : await quantizeWeightOnly(model, {
              weightType: approach === "int4" ? "int4" : "int8",
              ...(entry?.int4 === "blocked-dequantize" ? { int4Format: "dequantize-linear" as const } : {}),
              blockSize: 16,
            });
    const folded = entry?.static === "removable" && !result.model.graph?.node.some((n) => n.opType === op);
    if (!folded) expect(result.report.quantizedNodes).toContain("target");
    // Runs in onnxruntime and computes what the float op computes: 8 bits on these ranges give
    // ~40 dB; 20 dB (10% noise) catches a wrong grid, a lost zero point or a float model passed
    // through. int4 blocks of 16 give ~20-25 dB, so 12 dB there.
    const reference = await output(model, c);
    const quantized = await output(result.model, c);
    const comparison = new OutputComparison(c.output);
    comparison.add(reference, quantized, [reference.length]);
    expect(comparison.result().sqnr).toBeGreaterThan(approach === "int4" ? 12 : 20);
  });
});
