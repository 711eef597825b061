import { recordEvidence } from "@zeropoint/test-helpers";
import { describe, expect, it } from "vitest";
import {
  accuracy,
  encodeModel,
  mnistCalibration,
  optimizedOpCounts,
  ortReference,
  sharedModelBytes,
} from "../../test-fixtures/mnist-eval.js";
import { loadModel } from "../model/model-io.js";
import { quantizeStatic } from "./quantize-static.js";

const INTEGER_OPS = [
  "QLinearConv",
  "QLinearMatMul",
  "QGemm",
  "ConvInteger",
  "MatMulInteger",
  "DynamicQuantizeMatMul",
  "MatMulIntegerToFloat",
];
const COMPUTE = new Set(["Conv", "MatMul", "Gemm"]);
const reference = ortReference();
const calibration = mnistCalibration();

// Acceptance (issue 3): accuracy on the 2004-image test split >= onnxruntime's own quantizer - 0.3
// points; size <= 0.27x float for cnn/mlp, transformer <= 0.65x (QDQ) / 0.50x (QOperator); every
// quantized Conv/MatMul/Gemm runs as an integer op in the graph onnxruntime optimizes.
describe.each(["cnn", "mlp", "transformer"])(
  "static quantization of %s_fp32.onnx (256 MNIST calibration images)",
  (name) => {
    const floatBytes = sharedModelBytes(name);
    const cases = [
      {
        title: "qdq per-channel: accuracy, size and integer compute",
        format: "qdq" as const,
        perChannel: true,
        ref: reference[name]?.qdq as number,
        maxSize: name === "transformer" ? 0.65 : 0.27,
      },
      {
        title: "qoperator per-tensor: accuracy, size and integer compute",
        format: "qoperator" as const,
        perChannel: false,
        ref: reference[name]?.qoperator as number,
        maxSize: name === "transformer" ? 0.5 : 0.27,
      },
    ];
    for (const c of cases) {
      it(c.title, async () => {
        const { model, report } = await quantizeStatic(floatBytes, {
          calibrationData: () => calibration,
          format: c.format,
          perChannel: c.perChannel,
        });
        const bytes = encodeModel(model);
        const acc = await accuracy(bytes);
        expect(acc).toBeGreaterThanOrEqual(c.ref - 0.003);
        expect(bytes.length / floatBytes.length).toBeLessThanOrEqual(c.maxSize);
        const original = loadModel(floatBytes).model.graph?.node ?? [];
        const quantizedCompute = original.filter(
          (n) => COMPUTE.has(n.opType ?? "") && report.quantizedNodes.includes(n.name ?? ""),
        ).length;
        expect(quantizedCompute).toBeGreaterThan(0);
        const counts = await optimizedOpCounts(bytes);
        const integer = INTEGER_OPS.reduce((s, op) => s + (counts.get(op) ?? 0), 0);
        const floatCompute = [...COMPUTE].reduce((s, op) => s + (counts.get(op) ?? 0), 0);
        const originalCompute = original.filter((n) => COMPUTE.has(n.opType ?? "")).length;
        expect(integer).toBeGreaterThanOrEqual(quantizedCompute);
        // Float Conv/MatMul/Gemm left after optimization are only the ones the plan kept float.
        expect(floatCompute).toBeLessThanOrEqual(originalCompute - quantizedCompute);
        recordEvidence(
          c.format === "qdq" ? "onnx/static/qdq" : "onnx/static/qoperator",
          `accuracy ${acc.toFixed(4)} (onnxruntime's quantizer ${c.ref.toFixed(4)}), ${(bytes.length / floatBytes.length).toFixed(3)}x, runs in onnxruntime-node 1.30`,
          name,
        );
      });
    }
  },
);
