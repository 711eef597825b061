import { describe, expect, it } from "vitest";
import { mlpInsideIf } from "../../test-fixtures/if-model.js";
import { accuracy, encodeModel, mnistCalibration } from "../../test-fixtures/mnist-eval.js";
import { calibrationSourceFromBatches } from "../calibration/calibration-source.js";
import type { OnnxGraph } from "../model/onnx-schema.js";
import { quantizeDynamic } from "./quantize-dynamic.js";
import { quantizeStatic } from "./quantize-static.js";
import { quantizeWeightOnly } from "./quantize-weight-only.js";

describe("weights inside If branches", () => {
  it("become int8 behind DequantizeLinear in the branch, one copy for both branches, <= 0.4x, same accuracy", async () => {
    const model = mlpInsideIf();
    const floatBytes = encodeModel(model);
    const floatAccuracy = await accuracy(floatBytes);
    const { model: q, report } = await quantizeWeightOnly(model, { weightType: "int8" });
    const bytes = encodeModel(q);
    const quantizedAccuracy = await accuracy(bytes);
    const ifNode = q.graph?.node.find((n) => n.opType === "If");
    const branches = (ifNode?.attribute ?? []).map((a) => a.g as OnnxGraph);
    expect(branches.length).toBe(2);
    for (const b of branches) {
      const consumers = b.node.filter((n) => n.opType === "Gemm" || n.opType === "MatMul");
      expect(consumers.length).toBeGreaterThan(0);
      // Every weight input now comes from a DequantizeLinear inside the branch.
      const dq = new Set(b.node.filter((n) => n.opType === "DequantizeLinear").flatMap((n) => n.output));
      for (const c of consumers) expect(dq.has(c.input[1] ?? "")).toBe(true);
    }
    // The float weights are gone; their int8 copies live once, in the outer graph.
    const outerTypes = (q.graph?.initializer ?? []).map((t) => t.dataType);
    expect(outerTypes.filter((t) => t === 1).length).toBeLessThanOrEqual(outerTypes.filter((t) => t === 3).length * 2);
    expect(report.quantizedNodes.length).toBe(
      branches.reduce((a, b) => a + b.node.filter((n) => n.opType === "Gemm" || n.opType === "MatMul").length, 0),
    );
    console.log(
      `If-wrapped MLP: ${(bytes.length / floatBytes.length).toFixed(3)}x, accuracy ${floatAccuracy} -> ${quantizedAccuracy}`,
    );
    expect(bytes.length / floatBytes.length).toBeLessThanOrEqual(0.4);
    expect(quantizedAccuracy).toBeGreaterThanOrEqual(floatAccuracy - 0.005);
  });
});

describe("an If on a constant condition", () => {
  it("is inlined, so static and dynamic quantize the network it always runs", async () => {
    const model = mlpInsideIf("constant");
    const floatBytes = encodeModel(model);
    const floatAccuracy = await accuracy(floatBytes);
    const batches = mnistCalibration(128, 32);
    for (const run of [
      () => quantizeStatic(model, { calibrationData: calibrationSourceFromBatches(batches), perChannel: true }),
      () => quantizeDynamic(model, { perChannel: true }),
    ]) {
      const { model: q, report } = await run();
      expect(q.graph?.node.some((n) => n.opType === "If")).toBe(false);
      expect(report.quantizedNodes.length).toBeGreaterThan(0);
      const bytes = encodeModel(q);
      expect(bytes.length / floatBytes.length).toBeLessThanOrEqual(0.4);
      expect(await accuracy(bytes)).toBeGreaterThanOrEqual(floatAccuracy - 0.01);
    }
  });
});

describe("static on an If with a run-time condition", () => {
  it("calibrates the branch that runs through the outer values it reads and quantizes its activations", async () => {
    const model = mlpInsideIf("run-time");
    const floatBytes = encodeModel(model);
    const floatAccuracy = await accuracy(floatBytes);
    const { model: q, report } = await quantizeStatic(model, {
      calibrationData: calibrationSourceFromBatches(mnistCalibration(64, 32)),
      perChannel: true,
    });
    const ifNode = q.graph?.node.find((n) => n.opType === "If");
    const then = ifNode?.attribute.find((a) => a.name === "then_branch")?.g as OnnxGraph;
    // The taken branch now holds QuantizeLinear/DequantizeLinear pairs on its activations.
    expect(then.node.filter((n) => n.opType === "QuantizeLinear").length).toBeGreaterThan(2);
    expect(report.quantizedNodes.some((n) => n.startsWith("route/then_branch/"))).toBe(true);
    const bytes = encodeModel(q);
    // Both branches of this fixture read the same outer weights: the taken branch holds its own
    // int8 copy (QDQ), the branch no batch took stores another (weight-only), so about half.
    expect(bytes.length / floatBytes.length).toBeLessThanOrEqual(0.55);
    expect(await accuracy(bytes)).toBeGreaterThanOrEqual(floatAccuracy - 0.01);
  });
});

describe("dynamic on an If with a run-time condition: the weights", () => {
  it("store the branches' weights int8 where activations are not observed and keep the accuracy", async () => {
    const model = mlpInsideIf("run-time");
    const floatBytes = encodeModel(model);
    const floatAccuracy = await accuracy(floatBytes);
    for (const run of [() => quantizeDynamic(model)]) {
      const { model: q, report } = await run();
      expect(q.graph?.node.some((n) => n.opType === "If")).toBe(true);
      expect(report.quantizedNodes.length).toBe(6);
      const bytes = encodeModel(q);
      expect(bytes.length / floatBytes.length).toBeLessThanOrEqual(0.4);
      expect(await accuracy(bytes)).toBeGreaterThanOrEqual(floatAccuracy - 0.005);
    }
  });
});
