import {
  ADAPTER_SPECIFICATION_VERSION,
  type AdapterModel,
  type AdapterRegistration,
  adapterRegistry,
  checkBuild,
  computeQParams,
  evaluateIr,
  fakeQuantize,
  type IrGraph,
  type ModelBuild,
  type QuantizerAdapter,
  type TensorRecord,
} from "@zeropoint/core";
import { adapterConformance } from "@zeropoint/core/testing";
import { mnistSplit, sharedPath } from "@zeropoint/test-helpers";
import { afterAll, describe, expect, it } from "vitest";
import { compareModel } from "./compare.js";

// A fourth framework that lives in this test only: core's own float evaluator as its runtime and
// weight-only int8 (symmetric, per output channel, dequantized) as its one variant. Nothing in
// apps/cli knows it; registering it in core's registry is all it takes for compare to show it.

function build(ir: IrGraph, variant: ModelBuild["variant"]): ModelBuild {
  const self: ModelBuild = {
    framework: "reference",
    variant,
    runtime: "core evaluateIr (float32)",
    async predict(inputs: TensorRecord) {
      const [name, t] = Object.entries(inputs)[0] as [string, TensorRecord[string]];
      const out = evaluateIr(ir, { [name]: { data: t.data as Float32Array, shape: t.dims } });
      return out.get(ir.outputs[0] as string)?.data as Float32Array;
    },
    sizeBytes: () => ir.nodes.reduce((a, n) => a + Object.values(n.weights).reduce((b, w) => b + w.data.length, 0), 0),
    layerParams: () => ({}),
    check: (reference, data) => checkBuild(self, reference, data),
  };
  return self;
}

/** Every weight quantized symmetric int8 per output channel (its leading axis) and dequantized. */
function quantizeWeights(ir: IrGraph): IrGraph {
  return {
    ...ir,
    nodes: ir.nodes.map((node) => {
      const w = node.weights.weight;
      if (w === undefined) return node;
      const rows = w.shape[0] as number;
      const per = w.data.length / rows;
      const data = new Float32Array(w.data.length);
      for (let r = 0; r < rows; r++) {
        const row = w.data.subarray(r * per, (r + 1) * per);
        const lo = Math.min(0, ...row);
        const hi = Math.max(0, ...row);
        const qparams = computeQParams(lo, hi, {
          scheme: { dtype: "int8", symmetric: true, granularity: "per-tensor" },
        });
        data.set(fakeQuantize(row, qparams).output, r * per);
      }
      return { ...node, weights: { ...node.weights, weight: { shape: w.shape, data } } };
    }),
  };
}

function model(ir: IrGraph): AdapterModel {
  const inputs = ir.inputs.map((i) => ({
    name: i.name,
    dtype: "float32" as const,
    dims: i.shape.map((d) => d ?? "batch"),
    batchAxis: 0,
  }));
  return {
    framework: "reference",
    source: `ir:${ir.name}`,
    files: [],
    inputs,
    ir,
    irError: undefined,
    float: build(ir, "float"),
    native: ir,
  };
}

function referenceAdapter(quantize: (ir: IrGraph) => IrGraph = quantizeWeights): QuantizerAdapter {
  return {
    specificationVersion: ADAPTER_SPECIFICATION_VERSION,
    framework: "reference",
    variants: [{ approach: "weight-only", format: "int8 per-channel", emulated: true }],
    canLoad: () => false,
    load: async (source) => {
      throw new Error(`${source}: the reference adapter builds from IR only`);
    },
    fromIr: async (ir) => model(ir),
    quantize: async (m) =>
      build(quantize(m.ir as IrGraph), { approach: "weight-only", format: "int8 per-channel", emulated: true }),
  };
}

const registration: AdapterRegistration = { framework: "reference", canLoad: () => false, create: referenceAdapter };

describe("a fourth adapter registered in core's registry", () => {
  const unregister = adapterRegistry.register(registration);
  afterAll(unregister);

  it("compare includes it beside onnx, torch and tfjs with no change to apps/cli", async () => {
    const test = mnistSplit("test");
    const train = mnistSplit("train");
    const report = await compareModel({
      model: sharedPath("models/mlp_fp32.onnx"),
      calibration: [train.images.subarray(0, 64 * 784)],
      evaluation: { images: test.images.subarray(0, 256 * 784), labels: test.labels.subarray(0, 256), count: 256 },
    });
    const float = report.float.find((f) => f.framework === "reference");
    expect(float?.unsupported).toBeUndefined();
    // Same float network in another evaluator: logits agree to float32 summation order.
    expect(float?.maxLogitDifference).toBeLessThanOrEqual(1e-3);
    const row = report.rows.find((r) => r.framework === "reference");
    expect(row).toMatchObject({
      approach: "weight-only",
      format: "int8 per-channel",
      runtime: "core evaluateIr (float32)",
    });
    // int8 per-channel weights on this MLP: ~40 dB logits and top-1 equal to float on almost all images.
    expect(row?.sqnr).toBeGreaterThan(25);
    expect(row?.top1Agreement).toBeGreaterThanOrEqual(0.98);
    expect(report.rows.map((r) => r.framework)).toEqual(expect.arrayContaining(["onnx", "torch", "tfjs", "reference"]));
  });

  it("passes the conformance suite, and the suite fails a no-op quantizer", async () => {
    const ok = await adapterConformance(referenceAdapter());
    expect(ok.filter((r) => !r.passed)).toEqual([]);
    const noOp = await adapterConformance(referenceAdapter((ir) => ir));
    expect(noOp.filter((r) => !r.passed).map((r) => r.check)).toEqual([
      "weight-only int8 per-channel: quantization changed the outputs",
    ]);
  });
});
