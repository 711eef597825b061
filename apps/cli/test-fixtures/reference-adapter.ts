import {
  ADAPTER_SPECIFICATION_VERSION,
  type AdapterModel,
  type AdapterRegistration,
  checkBuild,
  computeQParams,
  evaluateIr,
  fakeQuantize,
  type IrGraph,
  irInputSpecs,
  type ModelBuild,
  type QuantizerAdapter,
  type TensorRecord,
} from "@zeropoint/core";

// A fourth framework that lives in the tests only (never in apps/cli/src): core's own float evaluator as its runtime and
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
  const inputs = irInputSpecs(ir);
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

/** The reference adapter; `quantize` replaceable so a test can sabotage it. */
export function referenceAdapter(quantize: (ir: IrGraph) => IrGraph = quantizeWeights): QuantizerAdapter {
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

/** Its registration, as an adapter package would export it from `<package>/adapter`. */
export const referenceAdapterRegistration: AdapterRegistration = {
  framework: "reference",
  canLoad: () => false,
  create: referenceAdapter,
};
