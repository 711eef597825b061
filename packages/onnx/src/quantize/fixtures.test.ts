import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { constantsAndBatchNormModel, opset9Model, randomBatches } from "../../test-fixtures/build-models.js";
import { sharedModelBytes } from "../../test-fixtures/mnist-eval.js";
import { checkQuantizedModel } from "../check/model-check.js";
import { encodeModel, loadModel, opsetVersion, saveModel } from "../model/model-io.js";
import type { OnnxModel } from "../model/onnx-schema.js";
import { quantizeDynamic } from "./quantize-dynamic.js";
import { quantizeStatic } from "./quantize-static.js";

const work = mkdtempSync(join(tmpdir(), "zeropoint-fixtures-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Quantizes a model in QDQ, QOperator and dynamic form; each must load, run and stay close to float. */
async function allFormats(model: OnnxModel, shape: number[], minSqnr: number) {
  const batches = randomBatches(shape, 4, 8);
  const results = [];
  for (const [label, run] of [
    ["qdq", () => quantizeStatic(model, { calibrationData: () => batches, format: "qdq", perChannel: true })],
    ["qoperator", () => quantizeStatic(model, { calibrationData: () => batches, format: "qoperator" })],
    ["dynamic", () => quantizeDynamic(model, { perChannel: true })],
  ] as const) {
    const { model: q, report } = await run();
    const check = await checkQuantizedModel(model, q, batches, report.activations ?? {});
    expect(check.outputs[0]?.sqnr, label).toBeGreaterThan(minSqnr);
    results.push({ label, q, report });
  }
  return results;
}

describe("fixture models, each quantized in all three formats and run", () => {
  it("a model with external data loads, quantizes and saves with external data", async () => {
    const dir = join(work, "external");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(dir);
    const path = join(dir, "cnn.onnx");
    const written = saveModel(loadModel(sharedModelBytes("cnn")).model, path, { externalData: "always" });
    expect(written.dataBytes).toBeGreaterThan(800_000);
    expect(readFileSync(path).length).toBeLessThan(20_000);
    const loaded = loadModel(path).model;
    // Inlined again on load: identical to the original weights.
    expect(encodeModel(loaded)).toEqual(encodeModel(loadModel(sharedModelBytes("cnn")).model));
    const results = await allFormats(loaded, [1, 28, 28], 20);
    const out = join(dir, "cnn.int8.onnx");
    saveModel(results[0]?.q as OnnxModel, out, { externalData: "always" });
    expect(readdirSync(dir).sort()).toEqual(["cnn.int8.onnx", "cnn.int8.onnx.data", "cnn.onnx", "cnn.onnx.data"]);
    const reloaded = loadModel(out).model;
    expect(encodeModel(reloaded)).toEqual(encodeModel(results[0]?.q as OnnxModel));
  });

  it("weights in Constant nodes and an unfused BatchNormalization", async () => {
    const model = constantsAndBatchNormModel();
    const results = await allFormats(model, [1, 8, 8], 18);
    for (const r of results) {
      expect(r.q.graph?.node.some((n) => n.opType === "BatchNormalization")).toBe(false);
      expect(r.q.graph?.node.some((n) => n.opType === "Constant")).toBe(false);
      expect(r.report.quantizedNodes).toEqual(expect.arrayContaining(["conv", "fc"]));
    }
  });

  it("an opset-9 model with Clip, Pad and Unsqueeze attributes is converted, not just relabelled", async () => {
    const model = opset9Model();
    const results = await allFormats(model, [1, 6, 6], 18);
    for (const r of results) {
      expect(opsetVersion(r.q)).toBeGreaterThanOrEqual(13);
      const byOp = (op: string) => r.q.graph?.node.find((n) => n.opType === op);
      if (byOp("Clip")) expect(byOp("Clip")?.input.length).toBe(3);
      expect(byOp("Pad")?.input.length).toBeGreaterThanOrEqual(2);
      expect(byOp("Unsqueeze")?.input.length).toBe(2);
      expect(byOp("Unsqueeze")?.attribute.some((a) => a.name === "axes")).toBe(false);
    }
  });

  it("saving is byte-stable and atomic", () => {
    const model = loadModel(sharedModelBytes("mlp")).model;
    const a = join(work, "a.onnx");
    const b = join(work, "b.onnx");
    saveModel(model, a);
    saveModel(loadModel(a).model, b);
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
    expect(readFileSync(a).equals(Buffer.from(sharedModelBytes("mlp")))).toBe(true);
    expect(readdirSync(work).some((f) => f.includes(".tmp-"))).toBe(false);
  });

  it("tensor byte lengths are checked against dims before use", () => {
    const model = loadModel(sharedModelBytes("mlp")).model;
    const t = model.graph?.initializer[0];
    if (t?.rawData) t.rawData = t.rawData.subarray(0, 100);
    expect(() => loadModel(encodeModel(model))).toThrow(
      expect.objectContaining({
        code: "invalid-model",
        message: expect.stringMatching(/net\.1\.weight has 100 bytes/),
      }),
    );
  });
});
