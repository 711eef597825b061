import { floatToHalf, halfToFloat } from "@zeropoint/core";
import { mnistSplit } from "@zeropoint/test-helpers";
import { describe, expect, it } from "vitest";
import { float16Model } from "../../test-fixtures/float16-model.js";
import { calibrationSourceFromBatches } from "../calibration/calibration-source.js";
import { encodeModel } from "../model/model-io.js";
import { loadOnnxruntime } from "../runtime/onnxruntime.js";
import { quantizeDynamic } from "./quantize-dynamic.js";
import { quantizeStatic } from "./quantize-static.js";
import { quantizeWeightOnly } from "./quantize-weight-only.js";

/** Accuracy on the first 1,000 test images fed as float16; also returns the output's type. */
async function float16Accuracy(bytes: Uint8Array): Promise<{ accuracy: number; type: string }> {
  const ort = await loadOnnxruntime();
  const test = mnistSplit("test");
  const n = 1000;
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  try {
    const x = Uint16Array.from(test.images.subarray(0, n * 784), floatToHalf);
    const out = (await session.run({ input: new ort.Tensor("float16", x, [n, 1, 28, 28]) })).logits as {
      type: string;
      data: Uint16Array;
    };
    let right = 0;
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let k = 1; k < 10; k++)
        if (halfToFloat(out.data[i * 10 + k] as number) > halfToFloat(out.data[i * 10 + best] as number)) best = k;
      if (best === test.labels[i]) right++;
    }
    return { accuracy: right / n, type: out.type };
  } finally {
    await session.release();
  }
}

describe.each(["mlp", "cnn"] as const)("a float16 %s", (name) => {
  it("weight-only int8 and int4 keep float16 inputs, outputs and compute, read the fp16 weights exactly, and keep the accuracy", async () => {
    const model = float16Model(name);
    const floatBytes = encodeModel(model);
    const float = await float16Accuracy(floatBytes);
    expect(float.type).toBe("float16");
    for (const options of [
      { weightType: "int8" as const },
      { weightType: "int4" as const, int4Format: "dequantize-linear" as const },
    ]) {
      const { model: q, report } = await quantizeWeightOnly(model, options);
      expect(report.quantizedNodes.length).toBeGreaterThan(0);
      const bytes = encodeModel(q);
      const result = await float16Accuracy(bytes);
      console.log(
        `${name} float16 ${options.weightType}: ${(bytes.length / floatBytes.length).toFixed(3)}x, accuracy ${float.accuracy} -> ${result.accuracy}`,
      );
      expect(result.type).toBe("float16");
      // int8: 0.5 points (1,000 images: 5 flips); int4 RTN: 2 points.
      expect(result.accuracy).toBeGreaterThanOrEqual(float.accuracy - (options.weightType === "int8" ? 0.005 : 0.02));
      expect(bytes.length / floatBytes.length).toBeLessThanOrEqual(options.weightType === "int8" ? 0.6 : 0.4);
      // The weights are stored in 8 or 4 bits: no float16 weight matrix is left.
      const left =
        q.graph?.initializer.filter(
          (t) => t.dataType === 10 && (t.dims ?? []).length >= 2 && !(t.name ?? "").endsWith("_scale"),
        ) ?? [];
      expect(left.map((t) => t.name)).toEqual([]);
    }
  });

  it("static and dynamic compute in int8/float32 between Casts, keeping the float16 inputs and outputs", async () => {
    const model = float16Model(name);
    const floatBytes = encodeModel(model);
    const float = await float16Accuracy(floatBytes);
    const test = mnistSplit("train");
    const batches = Array.from({ length: 4 }, (_, b) => ({
      input: {
        dtype: "float16" as const,
        data: Uint16Array.from(test.images.subarray(b * 32 * 784, (b + 1) * 32 * 784), floatToHalf),
        dims: [32, 1, 28, 28],
      },
    }));
    for (const run of [
      () => quantizeStatic(model, { calibrationData: calibrationSourceFromBatches(batches), perChannel: true }),
      () => quantizeDynamic(model, { perChannel: true }),
    ]) {
      const { model: q, report } = await run();
      expect(report.quantizedNodes.length).toBeGreaterThan(0);
      const bytes = encodeModel(q);
      const result = await float16Accuracy(bytes);
      console.log(
        `${name} float16 ${report.approach}: ${(bytes.length / floatBytes.length).toFixed(3)}x, accuracy ${float.accuracy} -> ${result.accuracy}`,
      );
      expect(result.type).toBe("float16");
      expect(q.graph?.input[0]?.type?.tensorType?.elemType).toBe(10);
      expect(result.accuracy).toBeGreaterThanOrEqual(float.accuracy - 0.01);
      expect(bytes.length / floatBytes.length).toBeLessThanOrEqual(0.6);
    }
  });
});
