import { describe, expect, it } from "vitest";
import { encodeModel } from "../model/model-io.js";
import { quantizeWeightOnly } from "../quantize/quantize-weight-only.js";
import { zooCalibration, zooMetric, zooModel } from "./zoo-fixture.js";

/**
 * int4 block choice on the zoo's character GPT (perplexity on its held-out text, block 32, every
 * MatMul int4 including the tied LM head so the methods differ where it matters): asymmetric RTN
 * must beat symmetric RTN, and data-free HQQ and data-aware AWQ (64 calibration windows of the
 * training text, never the held-out text) must beat asymmetric RTN, measured in the same run.
 */
describe("int4 MatMulNBits on the zoo GPT: RTN symmetric, RTN asymmetric, HQQ", () => {
  it("HQQ < RTN-asym < RTN-sym in perplexity; every output runs in onnxruntime", async () => {
    const model = zooModel("gpt");
    const float = await zooMetric("gpt", model, model);
    const ppl: Record<string, number> = {};
    for (const [label, extra] of [
      ["rtn-sym", { int4Symmetric: true }],
      ["rtn-asym", {}],
      ["mse", { int4Method: "mse" as const }],
      ["hqq", { int4Method: "hqq" as const }],
      ["awq", { int4Method: "awq" as const, calibrationData: zooCalibration("gpt", model) }],
      ["gptq", { int4Method: "gptq" as const, calibrationData: zooCalibration("gpt", model) }],
      [
        "gptq-act-order",
        { int4Method: "gptq" as const, gptqActOrder: true, calibrationData: zooCalibration("gpt", model) },
      ],
    ] as const) {
      const { model: q } = await quantizeWeightOnly(model, {
        weightType: "int4",
        blockSize: 32,
        int4OutputProjection: "int4",
        ...extra,
      });
      ppl[label] = await zooMetric("gpt", encodeModel(q), model);
    }
    console.log(
      `gpt perplexity: float ${float.toFixed(3)}, ${Object.entries(ppl)
        .map(([k, v]) => `${k} ${v.toFixed(3)} (+${((v / float - 1) * 100).toFixed(1)}%)`)
        .join(", ")}`,
    );
    expect(ppl["rtn-asym"]).toBeLessThan(ppl["rtn-sym"] as number);
    expect(ppl.hqq).toBeLessThan(ppl["rtn-asym"] as number);
    expect(ppl.awq).toBeLessThan(ppl["rtn-asym"] as number);
    // GPTQ (issue 13's bar): it must cut RTN's perplexity increase over float by at least 40%.
    for (const g of ["gptq", "gptq-act-order"]) {
      expect((ppl[g] as number) - float).toBeLessThanOrEqual(0.6 * ((ppl["rtn-asym"] as number) - float));
    }
    // MSE clipping is printed, not asserted: measured here it is slightly worse than plain RTN
    // (+39.2% vs +38.1%), since the weights' squared error is not what perplexity responds to.
  });
});
