import { defaultRecipe } from "@zeropoint/core";
import { describe, expect, it } from "vitest";
import { controlFlowModel, hugeBiasModel, randomBatches } from "../../test-fixtures/build-models.js";
import { encodeModel, mnistCalibration, optimizedOpCounts, sharedModelBytes } from "../../test-fixtures/mnist-eval.js";
import { checkQuantizedModel } from "../check/model-check.js";
import { readFloat32, readIntegers } from "../model/tensor-data.js";
import { quantizeDynamic } from "./quantize-dynamic.js";
import { quantizeStatic } from "./quantize-static.js";

describe("static quantization options", () => {
  it("raises the weight scale instead of clipping an int32 bias that would overflow", async () => {
    const model = hugeBiasModel();
    const batches = [{ input: { data: Float32Array.of(0.5, -0.25, 0.1, 0.4, 0.3, 0.2, -0.1, 0.05), dims: [2, 4] } }];
    const { model: q, report } = await quantizeStatic(model, { calibrationData: () => batches, perChannel: true });
    const init = (name: string) => q.graph?.initializer.find((t) => t.name === name);
    const bias = readIntegers(init("b_quantized") as NonNullable<ReturnType<typeof init>>);
    // No value pinned at the int32 limits: the scales were raised so 5 and -4.5 fit.
    for (const v of bias) expect(Math.abs(v)).toBeLessThan(2 ** 31 - 1);
    const inputScale = report.activations?.input?.scale as number;
    const wScale = readFloat32(init("w_scale") as NonNullable<ReturnType<typeof init>>);
    const dequantized = bias.map((v, c) => v * inputScale * (wScale[c] as number));
    expect(dequantized[0]).toBeCloseTo(5, 3);
    expect(dequantized[1]).toBeCloseTo(-4.5, 3);
    const check = await checkQuantizedModel(model, q, batches, report.activations);
    expect(check.outputs[0]?.sqnr).toBeGreaterThan(30);
  });

  it("16-bit activations in QDQ use com.microsoft Q/DQ below opset 21 and run", async () => {
    const { model, report } = await quantizeStatic(sharedModelBytes("cnn"), {
      calibrationData: () => mnistCalibration(64),
      activationType: "uint16",
      perChannel: true,
    });
    const qdq = model.graph?.node.filter((n) => n.opType === "QuantizeLinear") ?? [];
    expect(qdq.length).toBeGreaterThan(0);
    for (const n of qdq) expect(n.domain).toBe("com.microsoft");
    const check = await checkQuantizedModel(
      (await import("../model/model-io.js")).loadModel(sharedModelBytes("cnn")).model,
      model,
      mnistCalibration(32),
      report.activations,
    );
    // 16-bit activations: the logits are much closer to float than with 8 bits.
    expect(check.outputs[0]?.sqnr).toBeGreaterThan(35);
  });

  it("rejects int8 activations with uint8 weights, and 16-bit QOperator", async () => {
    await expect(
      quantizeStatic(sharedModelBytes("mlp"), {
        calibrationData: () => mnistCalibration(32),
        activationType: "int8",
        weightType: "uint8",
      }),
    ).rejects.toMatchObject({
      code: "invalid-argument",
    });
    await expect(
      quantizeStatic(sharedModelBytes("mlp"), {
        calibrationData: () => mnistCalibration(32),
        format: "qoperator",
        activationType: "uint16",
      }),
    ).rejects.toMatchObject({
      code: "invalid-argument",
    });
  });

  it("S8S8 (int8 activations) works in QDQ", async () => {
    const { model } = await quantizeStatic(sharedModelBytes("cnn"), {
      calibrationData: () => mnistCalibration(64),
      activationType: "int8",
      perChannel: true,
    });
    const counts = await optimizedOpCounts(encodeModel(model));
    expect((counts.get("QLinearConv") ?? 0) + (counts.get("QGemm") ?? 0)).toBeGreaterThanOrEqual(3);
  });

  it("a plan keeps named nodes float and changes schemes per op type", async () => {
    const plan = {
      ...defaultRecipe("static"),
      weight: { dtype: "int8" as const, symmetric: true, granularity: "per-tensor" as const },
      overrides: {
        nodes: { "/l2/Gemm": { keepFloat: true } },
        opTypes: { Conv: { weight: { granularity: "per-channel" as const, axis: 0 } } },
      },
    };
    const { model, report } = await quantizeStatic(sharedModelBytes("cnn"), {
      calibrationData: () => mnistCalibration(64),
      plan,
    });
    expect(report.quantizedNodes).not.toContain("/l2/Gemm");
    expect(report.floatNodes.find((n) => n.name === "/l2/Gemm")?.reason).toBe("kept float by the plan");
    const scale = (name: string) => model.graph?.initializer.find((t) => t.name === name)?.dims?.length;
    expect(scale("onnx::Conv_32_scale")).toBe(1); // per-channel: 1-D scales
    expect(scale("l1.weight_scale")).toBe(0); // per-tensor: scalar
  });

  it("an If on a constant condition is inlined (its then branch, a Relu); custom domains pass through (dynamic needs no runtime)", async () => {
    const model = controlFlowModel(false);
    const { model: q, report } = await quantizeStatic(model, { calibrationData: () => randomBatches([1, 4, 4], 2, 4) });
    // If on run-time conditions stay and are quantized inside: src/quantize/subgraphs.test.ts.
    expect(q.graph?.node.some((n) => n.opType === "If")).toBe(false);
    expect(q.graph?.node.some((n) => n.opType === "Relu" || report.quantizedNodes.includes(n.name ?? ""))).toBe(true);
    expect(report.quantizedNodes).toContain("conv");
    const check = await checkQuantizedModel(model, q, randomBatches([1, 4, 4], 1, 4), report.activations);
    expect(check.outputs[0]?.sqnr).toBeGreaterThan(20);
    const custom = controlFlowModel(true);
    const { model: d } = await quantizeDynamic(custom);
    expect(d.graph?.node.find((n) => n.domain === "com.example")).toMatchObject({
      opType: "MyOp",
      input: ["conv_out"],
      output: ["z"],
    });
  });
});
