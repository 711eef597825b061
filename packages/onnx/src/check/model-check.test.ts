import { describe, expect, it } from "vitest";
import { mnistCalibration, sharedModelBytes } from "../../test-fixtures/mnist-eval.js";
import { loadModel } from "../model/model-io.js";
import { quantizeStatic } from "../quantize/quantize-static.js";
import { checkQuantizedModel } from "./model-check.js";

describe("checkQuantizedModel", () => {
  for (const format of ["qdq", "qoperator"] as const) {
    it(`${format}: reports SQNR per output and per quantized tensor, sizes and ops`, async () => {
      const floatModel = loadModel(sharedModelBytes("cnn")).model;
      const { model, report } = await quantizeStatic(floatModel, {
        calibrationData: () => mnistCalibration(),
        format,
        perChannel: format === "qdq",
      });
      const check = await checkQuantizedModel(floatModel, model, mnistCalibration(64), report.activations);
      expect(check.samples).toBe(64);
      expect(check.outputs.map((o) => o.name)).toEqual(["logits"]);
      // 8-bit CNN logits on MNIST: well above 20 dB; an identical model would be +Infinity.
      expect(check.outputs[0]?.sqnr).toBeGreaterThan(20);
      expect(check.outputs[0]?.sqnr).toBeLessThan(Number.POSITIVE_INFINITY);
      expect(check.tensors.length).toBeGreaterThan(3);
      for (const t of check.tensors) expect(t.sqnr).toBeGreaterThan(15);
      expect(check.top1Agreement).toBeGreaterThan(0.95);
      expect(check.quantizedBytes).toBeLessThan(check.floatBytes * 0.3);
      expect(check.floatOps.Conv).toBe(2);
      expect(format === "qdq" ? check.quantizedOps.QuantizeLinear : check.quantizedOps.QLinearConv).toBeGreaterThan(0);
    });
  }
});
