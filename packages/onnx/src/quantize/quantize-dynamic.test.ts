import { recordEvidence } from "@zeropoint/test-helpers";
import { describe, expect, it } from "vitest";
import {
  accuracy,
  encodeModel,
  optimizedOpCounts,
  ortReference,
  sharedModelBytes,
} from "../../test-fixtures/mnist-eval.js";
import { loadModel } from "../model/model-io.js";
import { quantizeDynamic } from "./quantize-dynamic.js";

const INTEGER_OPS = [
  "ConvInteger",
  "MatMulInteger",
  "DynamicQuantizeMatMul",
  "MatMulIntegerToFloat",
  "QLinearConv",
  "QLinearMatMul",
  "QGemm",
];
const COMPUTE = new Set(["Conv", "MatMul", "Gemm"]);
const reference = ortReference();

// Acceptance (issue 3): dynamic (IntegerOps) models run in onnxruntime-node, accuracy >= onnxruntime's
// dynamic figure - 0.3 points, size <= 0.27x (cnn, mlp) / 0.50x (transformer), integer compute for
// every quantized Conv/MatMul/Gemm.
describe.each(["cnn", "mlp", "transformer"])("dynamic quantization of %s_fp32.onnx", (name) => {
  it("accuracy, size and integer compute", async () => {
    const floatBytes = sharedModelBytes(name);
    const { model, report } = await quantizeDynamic(floatBytes, { perChannel: true });
    const bytes = encodeModel(model);
    const acc = await accuracy(bytes);
    expect(acc).toBeGreaterThanOrEqual((reference[name]?.dynamic as number) - 0.003);
    expect(bytes.length / floatBytes.length).toBeLessThanOrEqual(name === "transformer" ? 0.5 : 0.27);
    const original = loadModel(floatBytes).model.graph?.node ?? [];
    const quantizedCompute = original.filter(
      (n) => COMPUTE.has(n.opType ?? "") && report.quantizedNodes.includes(n.name ?? ""),
    ).length;
    expect(quantizedCompute).toBeGreaterThan(0);
    const counts = await optimizedOpCounts(bytes);
    expect(INTEGER_OPS.reduce((s, op) => s + (counts.get(op) ?? 0), 0)).toBeGreaterThanOrEqual(quantizedCompute);
    recordEvidence(
      "onnx/dynamic/integer-ops",
      `accuracy ${acc.toFixed(4)} (onnxruntime's quantizer ${Number(reference[name]?.dynamic).toFixed(4)}), runs in onnxruntime-node 1.30`,
      name,
    );
  });
});
