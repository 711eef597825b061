import { describe, expect, it } from "vitest";
import { exposeTensors } from "../calibration/calibrate.js";
import { encodeModel } from "../model/model-io.js";
import type { OnnxModel } from "../model/onnx-schema.js";
import { quantizeMixed } from "../quantize/quantize-mixed.js";
import { quantizeWeightOnly, type WeightOnlyOptions } from "../quantize/quantize-weight-only.js";
import { type ZooName, zooCalibration, zooMetric, zooModel, zooOutputs } from "./zoo-fixture.js";

/**
 * int4 block choice on the zoo's character GPT (perplexity on its held-out text) and BERT-style
 * encoder (accuracy, and cosine of the classifier's input embedding against float), block 32,
 * every MatMul int4 including the output projection so the methods differ where it matters.
 * AWQ, GPTQ and mixed precision fit on the calibration split (never the held-out one). Mixed
 * precision: GPTQ int4 with the layers whose relative output error is highest per byte moved to
 * 8-bit MatMulNBits or float, within 1.25x the all-int4 size. Every output runs in onnxruntime.
 */
const METHODS = [
  ["rtn-sym", { int4Symmetric: true }],
  ["rtn-asym", {}],
  ["mse", { int4Method: "mse" }],
  ["hqq", { int4Method: "hqq" }],
  ["awq", { int4Method: "awq", data: true }],
  ["gptq", { int4Method: "gptq", data: true }],
  ["gptq-act-order", { int4Method: "gptq", gptqActOrder: true, data: true }],
  ["mixed", { int4Method: "gptq", data: true, mixed: true }],
] as const;

interface Row {
  readonly metric: number;
  readonly bytes: number;
  readonly cosine?: number;
}

async function methodTable(name: ZooName, embedding?: string): Promise<{ float: Row; rows: Record<string, Row> }> {
  const model = zooModel(name);
  const floatBytes = encodeModel(model).length;
  const reference =
    embedding === undefined ? undefined : await zooOutputs(name, exposeTensors(model, [embedding]), model, embedding);
  const measure = async (q: OnnxModel): Promise<Row> => {
    const bytes = encodeModel(q);
    const metric = await zooMetric(name, bytes, model);
    if (reference === undefined || embedding === undefined) return { metric, bytes: bytes.length };
    const out = await zooOutputs(name, exposeTensors(q, [embedding]), model, embedding);
    return {
      metric,
      bytes: bytes.length,
      cosine: meanCosine(reference.data, out.data, out.dims[out.dims.length - 1] as number),
    };
  };
  const rows: Record<string, Row> = {};
  for (const [label, extra] of METHODS) {
    const { data, mixed, ...rest } = { data: false, mixed: false, ...extra };
    const options: WeightOnlyOptions = {
      blockSize: 32,
      ...(rest as WeightOnlyOptions),
      ...(data ? { calibrationData: zooCalibration(name, model) } : {}),
    };
    const q = mixed
      ? (await quantizeMixed(model, { ...options, calibrationData: zooCalibration(name, model) })).model
      : (await quantizeWeightOnly(model, { ...options, weightType: "int4", int4OutputProjection: "int4" })).model;
    rows[label] = await measure(q);
  }
  const float: Row = { metric: await zooMetric(name, model, model), bytes: floatBytes, cosine: 1 };
  console.log(
    [
      `${name}: method | ${name === "gpt" ? "perplexity" : "accuracy"} | size vs float${embedding ? " | embedding cosine" : ""}`,
      `float | ${float.metric.toFixed(4)} | 1.000`,
      ...Object.entries(rows).map(
        ([k, r]) =>
          `${k} | ${r.metric.toFixed(4)}${name === "gpt" ? ` (+${((r.metric / float.metric - 1) * 100).toFixed(2)}%)` : ""} | ${(r.bytes / floatBytes).toFixed(3)}${r.cosine === undefined ? "" : ` | ${r.cosine.toFixed(5)}`}`,
      ),
    ].join("\n"),
  );
  return { float, rows };
}

/** Mean over rows of cos(a_r, b_r). */
function meanCosine(a: Float32Array, b: Float32Array, width: number): number {
  let sum = 0;
  const count = a.length / width;
  for (let r = 0; r < count; r++) {
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let i = r * width; i < (r + 1) * width; i++) {
      dot += (a[i] as number) * (b[i] as number);
      na += (a[i] as number) ** 2;
      nb += (b[i] as number) ** 2;
    }
    sum += dot / Math.sqrt(na * nb);
  }
  return sum / count;
}

const get = (rows: Record<string, Row>, k: string) => rows[k] as Row;

describe("int4 MatMulNBits methods on the zoo models", () => {
  it("GPT: HQQ beats RTN; AWQ and GPTQ cut RTN's perplexity increase by >= 40%; mixed (<= 1.25x) beats all-int4 GPTQ", async () => {
    const { float, rows } = await methodTable("gpt");
    const rtn = get(rows, "rtn-asym").metric;
    expect(rtn).toBeLessThan(get(rows, "rtn-sym").metric);
    expect(get(rows, "hqq").metric).toBeLessThan(rtn);
    // Issue 13's bar: each data-aware method cuts RTN's perplexity increase over float by >= 40%.
    for (const g of ["awq", "gptq", "gptq-act-order"])
      expect(get(rows, g).metric - float.metric).toBeLessThanOrEqual(0.6 * (rtn - float.metric));
    expect(get(rows, "mixed").metric).toBeLessThan(get(rows, "gptq").metric);
    expect(get(rows, "mixed").bytes).toBeLessThanOrEqual(1.25 * get(rows, "gptq").bytes);
    // MSE clipping is printed, not asserted: measured here it is slightly worse than plain RTN
    // (+39.0% vs +37.8%), since the weights' squared error is not what perplexity responds to.
  });

  it("BERT: accuracy and embedding cosine per method; GPTQ and mixed stay closer to float than RTN", async () => {
    const model = zooModel("bert");
    const head = model.graph?.node.find((n) => n.output.includes("logits"));
    const embedding = head?.input[0];
    expect(embedding).toBeTruthy();
    const { float, rows } = await methodTable("bert", embedding as string);
    const cos = (k: string) => get(rows, k).cosine as number;
    for (const k of ["awq", "gptq", "mixed"])
      expect(Math.abs(get(rows, k).metric - float.metric)).toBeLessThanOrEqual(0.01);
    // GPTQ and mixed move the embedding closer to float than RTN; AWQ does not here (measured
    // 0.99775 vs RTN's 0.99799: its per-layer scale fit on 512 sampled token rows does not carry
    // to the pooled embedding), so it is printed, not asserted.
    for (const k of ["gptq", "mixed"]) expect(cos(k)).toBeGreaterThan(cos("rtn-asym"));
    expect(cos("mixed")).toBeGreaterThanOrEqual(cos("gptq"));
    expect(get(rows, "mixed").bytes).toBeLessThanOrEqual(1.25 * get(rows, "gptq").bytes);
  });
});
