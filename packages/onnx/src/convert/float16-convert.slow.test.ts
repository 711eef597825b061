import { describe, expect, it } from "vitest";
import { encodeModel } from "../model/model-io.js";
import { DataType } from "../model/onnx-schema.js";
import { ZOO_MODELS, zooMeta, zooMetric, zooModel } from "../zoo/zoo-fixture.js";
import { convertToFloat16 } from "./float16-convert.js";

describe.each(ZOO_MODELS)("float16 conversion of zoo model %s", (name) => {
  it("keeps float32 inputs/outputs, halves the file and keeps the metric", async () => {
    const model = zooModel(name);
    const { model: half, report } = convertToFloat16(model);
    const bytes = encodeModel(half);
    const ratio = bytes.length / encodeModel(model).length;
    const float = await zooMetric(name, model, model);
    const converted = await zooMetric(name, bytes, model);
    console.log(
      `${name} fp16: ${ratio.toFixed(3)}x, ${float} -> ${converted}, ${report.float32Nodes.length} float32 nodes`,
    );
    for (const v of [...(half.graph?.input ?? []), ...(half.graph?.output ?? [])])
      if (v.type?.tensorType?.elemType !== DataType.INT64) expect(v.type?.tensorType?.elemType).toBe(DataType.FLOAT);
    expect(report.convertedInitializers).toBeGreaterThan(0);
    // Weights are half the bytes; graph structure and int64 tables add a little.
    expect(ratio).toBeLessThanOrEqual(0.52);
    // float16 keeps 11 significant bits: accuracy/IoU within 0.2 points, perplexity within 0.5%.
    if (zooMeta(name).metric === "perplexity") expect(Math.abs(converted / float - 1)).toBeLessThan(0.005);
    else expect(Math.abs(converted - float)).toBeLessThanOrEqual(0.002);
  });
});
