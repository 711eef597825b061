import {
  type CalibrationMethod,
  createObserver,
  defaultRecipe,
  type IrGraph,
  type IrNode,
  type Recipe,
  sqnr,
  ZeropointError,
} from "@zeropoint/core";
import { top1 } from "../top1.js";
import { floatBuilds, type Predict } from "./float-builds.js";

/** One quantized build in the comparison. */
export interface CompareRow {
  readonly framework: "onnx" | "torch" | "tfjs";
  readonly approach: "static" | "dynamic" | "weight-only";
  readonly format: string;
  readonly emulated: boolean;
  readonly runtime: string;
  /** Set when this framework cannot take the model. */
  readonly unsupported?: string;
  readonly accuracy?: number;
  readonly top1Agreement?: number;
  /** Logit SQNR (dB) against the float model, over the evaluation set. */
  readonly sqnr?: number;
  readonly sizeBytes?: number;
  readonly sizeNote?: string;
  /** Milliseconds per image over the evaluation set. */
  readonly latencyMs?: number;
  readonly quantizeSeconds?: number;
  /** Per quantized layer (IR node): output scale and zero point, and weight SQNR when known. */
  readonly layers?: Record<string, { scale: number; zeroPoint: number; weightSqnr?: number }>;
}

/** The whole comparison. */
export interface CompareReport {
  readonly model: string;
  /** The shared static recipe: its name, calibration method and weight granularity. */
  readonly recipe: { name: string; method: string; perChannel: boolean };
  readonly samples: { calibration: number; evaluation: number };
  readonly float: {
    framework: string;
    runtime: string;
    accuracy?: number;
    maxLogitDifference?: number;
    unsupported?: string;
  }[];
  readonly floatAgree: boolean;
  readonly irError?: string;
  readonly layers: string[];
  readonly rows: CompareRow[];
  /** Float activation histograms of each quantized layer output, over the calibration set. */
  readonly histograms: { layer: string; min: number; max: number; counts: number[] }[];
}

/** Options of {@link compareModel}. */
export interface CompareOptions {
  readonly model: string;
  /** Calibration batches (NCHW floats of the model input). */
  readonly calibration: Float32Array[];
  /** Evaluation images and labels (labels optional: then only agreement and SQNR). */
  readonly evaluation: { images: Float32Array; labels?: Uint8Array; count: number };
  readonly onStep?: (label: string) => void;
  /** The shared static recipe (default: core's `static-default`); its calibration method and weight granularity apply to every framework. */
  readonly recipe?: Recipe;
}

/** What of the static recipe each framework applies on top of its native scheme. */
interface SharedStatic {
  readonly method: CalibrationMethod;
  readonly perChannel: boolean;
}

const BATCH = 256;

async function evaluate(
  predict: Predict,
  images: Float32Array,
  count: number,
  per: number,
): Promise<{ logits: Float32Array; ms: number }> {
  const logits: Float32Array[] = [];
  const started = performance.now();
  for (let i = 0; i < count; i += BATCH) {
    const n = Math.min(BATCH, count - i);
    logits.push(Float32Array.from(await predict(images.subarray(i * per, (i + n) * per), n)));
  }
  const ms = (performance.now() - started) / count;
  const total = new Float32Array(logits.reduce((a, l) => a + l.length, 0));
  let at = 0;
  for (const l of logits) {
    total.set(l, at);
    at += l.length;
  }
  return { logits: total, ms };
}

function accuracy(top: Int32Array, labels: Uint8Array | undefined): number | undefined {
  if (labels === undefined) return undefined;
  let ok = 0;
  for (let i = 0; i < top.length; i++) if (top[i] === labels[i]) ok++;
  return ok / top.length;
}

function agreement(a: Int32Array, b: Int32Array): number {
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

/** IR nodes with weights that every approach quantizes, and the node whose output is their quantized output. */
function quantizedLayers(ir: IrGraph): { node: IrNode; outputNode: IrNode }[] {
  const out: { node: IrNode; outputNode: IrNode }[] = [];
  for (const [i, node] of ir.nodes.entries()) {
    if (!["conv2d", "depthwise-conv2d", "linear"].includes(node.op)) continue;
    const next = ir.nodes[i + 1];
    const fused = next !== undefined && (next.op === "relu" || next.op === "relu6") && next.inputs[0] === node.output;
    out.push({ node, outputNode: fused ? next : node });
  }
  return out;
}

/**
 * Quantizes one ONNX model with every framework and approach that can take it, with one shared
 * recipe per approach (static: per-channel symmetric int8 weights, uint8 activations, min/max over
 * the same calibration samples; dynamic: per-tensor int8 weights; weight-only: 8-bit storage),
 * applied on top of each framework's native scheme, and measures each build on the same data.
 */
export async function compareModel(options: CompareOptions): Promise<CompareReport> {
  const step = options.onStep ?? (() => {});
  const recipe = options.recipe ?? defaultRecipe("static");
  if (recipe.approach !== "static") {
    throw new ZeropointError(
      "invalid-recipe",
      `compare's recipe sets the static approach; ${recipe.name ?? "this recipe"} is ${recipe.approach}`,
    );
  }
  const shared: SharedStatic = {
    method: recipe.calibration?.method ?? "minmax",
    perChannel: (recipe.weight.granularity ?? "per-tensor") === "per-channel",
  };
  const f = await floatBuilds(options.model);
  const per = f.sampleShape.reduce((a, b) => a * b, 1);
  const { images, labels, count } = options.evaluation;
  const calibration = options.calibration;
  const calibrationSamples = calibration.reduce((a, b) => a + b.length / per, 0);

  step("float builds");
  const floatOut = new Map<string, { logits: Float32Array; ms: number }>();
  const floatRows: CompareReport["float"] = [];
  for (const b of f.builds) {
    if ("unsupported" in b) {
      floatRows.push({ framework: b.framework, runtime: "-", unsupported: b.unsupported });
      continue;
    }
    const r = await evaluate(b.predict, images, count, per);
    floatOut.set(b.framework, r);
    floatRows.push({
      framework: b.framework,
      runtime: b.note ?? b.framework,
      accuracy: accuracy(top1(r.logits, count), labels) as number,
    });
  }
  const reference = floatOut.get("onnx") as { logits: Float32Array };
  let floatAgree = true;
  for (const row of floatRows) {
    const out = floatOut.get(row.framework);
    if (out === undefined) continue;
    let worst = 0;
    for (let i = 0; i < out.logits.length; i++)
      worst = Math.max(worst, Math.abs((out.logits[i] as number) - (reference.logits[i] as number)));
    (row as { maxLogitDifference?: number }).maxLogitDifference = worst;
    if (worst > 1e-3) floatAgree = false;
  }
  const floatTop = top1(reference.logits, count);

  const rows: CompareRow[] = [];
  const measure = async (
    base: Omit<CompareRow, "accuracy" | "top1Agreement" | "sqnr" | "latencyMs">,
    predict: Predict,
  ): Promise<void> => {
    const r = await evaluate(predict, images, count, per);
    const top = top1(r.logits, count);
    rows.push({
      ...base,
      accuracy: accuracy(top, labels) as number,
      top1Agreement: agreement(top, floatTop),
      sqnr: sqnr(reference.logits, r.logits),
      latencyMs: r.ms,
    });
  };
  const unsupported = (
    framework: CompareRow["framework"],
    approach: CompareRow["approach"],
    format: string,
    emulated: boolean,
    reason: string,
  ) => rows.push({ framework, approach, format, emulated, runtime: "-", unsupported: reason });
  const layers = f.ir === undefined ? [] : quantizedLayers(f.ir);

  // ONNX: QDQ and QOperator static, IntegerOps dynamic, run in onnxruntime-node.
  const onnx = await import("@zeropoint/onnx");
  const ort = await import("onnxruntime-node");
  const { model } = onnx.loadModel(options.model);
  const batches = onnx.calibrationSourceFromBatches(
    calibration.map((data) => ({ [f.inputName]: { data, dims: [data.length / per, ...f.sampleShape] } })),
  );
  const ortPredict = async (bytes: Uint8Array): Promise<Predict> => {
    const session = await ort.InferenceSession.create(bytes, { executionProviders: ["cpu"], intraOpNumThreads: 1 });
    return async (x, n) => {
      const out = await session.run({ [f.inputName]: new ort.Tensor("float32", x, [n, ...f.sampleShape]) });
      return (Object.values(out)[0] as { data: Float32Array }).data;
    };
  };
  for (const format of ["qdq", "qoperator"] as const) {
    step(`onnx static ${format}`);
    const started = performance.now();
    const { model: q, report } = await onnx.quantizeStatic(model, {
      format,
      perChannel: shared.perChannel,
      calibrationData: batches,
      calibrationMethod: shared.method,
      activationType: "uint8",
      weightType: "int8",
    });
    const seconds = (performance.now() - started) / 1000;
    const bytes = onnx.encodeModel(q);
    const perLayer: Record<string, { scale: number; zeroPoint: number; weightSqnr?: number }> = {};
    for (const { node, outputNode } of layers) {
      let a = report.activations?.[outputNode.output];
      if (a?.sharedWith !== undefined) a = report.activations?.[a.sharedWith] ?? a;
      const weightSqnr = format === "qdq" ? qdqWeightSqnr(onnx, q, node) : undefined;
      if (a !== undefined)
        perLayer[node.name] = {
          scale: a.scale,
          zeroPoint: a.zeroPoint,
          ...(weightSqnr !== undefined ? { weightSqnr } : {}),
        };
    }
    await measure(
      {
        framework: "onnx",
        approach: "static",
        format: format === "qdq" ? "QDQ" : "QOperator",
        emulated: false,
        runtime: "onnxruntime-node 1.30 (cpu)",
        sizeBytes: bytes.byteLength,
        quantizeSeconds: seconds,
        layers: perLayer,
      },
      await ortPredict(bytes),
    );
  }
  {
    step("onnx dynamic");
    const started = performance.now();
    const { model: q } = await onnx.quantizeDynamic(model, { weightType: "int8" });
    const seconds = (performance.now() - started) / 1000;
    const bytes = onnx.encodeModel(q);
    await measure(
      {
        framework: "onnx",
        approach: "dynamic",
        format: "IntegerOps",
        emulated: false,
        runtime: "onnxruntime-node 1.30 (cpu)",
        sizeBytes: bytes.byteLength,
        quantizeSeconds: seconds,
      },
      await ortPredict(bytes),
    );
  }

  // torch: eager and FX static PTQ, dynamic; pure-TypeScript kernels reproducing fbgemm.
  if (f.ir === undefined) {
    for (const [approach, format] of [
      ["static", "eager"],
      ["static", "FX"],
      ["dynamic", "eager"],
    ] as const) {
      unsupported("torch", approach, format, false, `not supported: ${f.irError}`);
    }
  } else {
    try {
      await torchRows(f.ir, layers, calibration, f.sampleShape, measure, step, shared);
    } catch (e) {
      const reason = ZeropointError.isInstance(e) ? e.message : String(e);
      for (const [approach, format] of [
        ["static", "eager"],
        ["static", "FX"],
        ["dynamic", "eager"],
      ] as const) {
        if (!rows.some((r) => r.framework === "torch" && r.format === format && r.approach === approach)) {
          unsupported("torch", approach, format, false, `not supported: ${reason}`);
        }
      }
    }
  }

  // tfjs: static (emulated, plus its integer executor) and weight-only storage.
  if (f.ir === undefined) {
    unsupported("tfjs", "static", "fake-quant", true, `not supported: ${f.irError}`);
    unsupported("tfjs", "static", "integer executor", false, `not supported: ${f.irError}`);
    unsupported("tfjs", "weight-only", "storage uint8", false, `not supported: ${f.irError}`);
  } else {
    try {
      await tfjsRows(f.ir, layers, calibration, f.sampleShape, measure, step, shared);
    } catch (e) {
      const reason = ZeropointError.isInstance(e) ? e.message : String(e);
      for (const format of ["fake-quant", "integer executor", "storage uint8"]) {
        if (!rows.some((r) => r.framework === "tfjs" && r.format === format)) {
          unsupported(
            "tfjs",
            format === "storage uint8" ? "weight-only" : "static",
            format,
            format === "fake-quant",
            `not supported: ${reason}`,
          );
        }
      }
    }
  }

  const histograms = f.ir === undefined ? [] : await activationHistograms(f.ir, layers, calibration, f.sampleShape);
  return {
    model: options.model,
    recipe: { name: recipe.name ?? "custom", method: shared.method, perChannel: shared.perChannel },
    samples: { calibration: calibrationSamples, evaluation: count },
    float: floatRows,
    floatAgree,
    ...(f.irError !== undefined ? { irError: f.irError } : {}),
    layers: layers.map((l) => l.node.name),
    rows,
    histograms,
  };
}

type Measure = (
  base: Omit<CompareRow, "accuracy" | "top1Agreement" | "sqnr" | "latencyMs">,
  predict: Predict,
) => Promise<void>;

async function torchRows(
  ir: IrGraph,
  layers: { node: IrNode; outputNode: IrNode }[],
  calibration: Float32Array[],
  sampleShape: number[],
  measure: Measure,
  step: (s: string) => void,
  shared: SharedStatic,
): Promise<void> {
  const torch = await import("@zeropoint/torch");
  const per = sampleShape.reduce((a, b) => a * b, 1);
  if (createObserver(shared.method).passes !== 1) {
    throw new ZeropointError("unsupported-op", `torch observers calibrate in one pass; ${shared.method} needs two`);
  }
  // The shared static recipe on PyTorch's x86 defaults (x86 keeps reduce_range for activations).
  const qconfig = {
    engine: "x86" as const,
    activation: () => createObserver(shared.method, { dtype: "uint8", reduceRange: true }),
    weight: () =>
      shared.perChannel
        ? createObserver("per-channel-minmax", { dtype: "int8", symmetric: true, axis: 0 })
        : createObserver("minmax", { dtype: "int8", symmetric: true }),
  };
  const fusions = (prefix: string, moduleOf: ReadonlyMap<string, string>) =>
    layers
      .filter((l) => l.outputNode !== l.node)
      .map((l) => [`${prefix}${moduleOf.get(l.node.name)}`, `${prefix}${moduleOf.get(l.outputNode.name)}`]);
  const run =
    (m: { call(x: InstanceType<typeof torch.Tensor>): InstanceType<typeof torch.Tensor> }): Predict =>
    (x, n) =>
      torch.noGrad(() => m.call(new torch.Tensor(x, [n, ...sampleShape])).data as Float32Array);
  const calibrate = (m: { call(x: InstanceType<typeof torch.Tensor>): unknown }) =>
    torch.noGrad(() => {
      for (const b of calibration) m.call(new torch.Tensor(b, [b.length / per, ...sampleShape]));
    });
  const stateBytes = (m: InstanceType<typeof torch.Sequential> | ReturnType<typeof torch.convertFx>) => {
    let bytes = 0;
    for (const [, mod] of m.namedModules()) {
      const w = (mod as { weight?: { int?: Int8Array; scale?: Float32Array } }).weight;
      if (w?.int instanceof Int8Array) bytes += w.int.length + 8 * (w.scale?.length ?? 1);
      const weightInt = (mod as { weightInt?: Int8Array }).weightInt;
      if (weightInt !== undefined) bytes += weightInt.length + 8;
      const bias = (mod as { bias?: { data?: Float32Array } | Float32Array }).bias;
      const biasData = bias instanceof Float32Array ? bias : bias?.data;
      if (biasData !== undefined) bytes += 4 * biasData.length;
    }
    return bytes;
  };
  const qparamsOf = (modules: Map<string, unknown>, name: string | undefined, node: IrNode) => {
    const m =
      name === undefined
        ? undefined
        : (modules.get(name) as { scale?: unknown; zeroPoint?: unknown; weight?: unknown } | undefined);
    if (typeof m?.scale !== "number" || typeof m.zeroPoint !== "number") return undefined;
    // Weight SQNR: the module's int8 weight (per output channel scales) against the IR's float weight.
    const w = m.weight as { int?: Int8Array; scale?: Float32Array; zeroPoint?: Int32Array } | undefined;
    const reference = node.weights.weight?.data;
    let weightSqnr: number | undefined;
    if (
      w?.int instanceof Int8Array &&
      w.scale !== undefined &&
      reference !== undefined &&
      reference.length === w.int.length
    ) {
      const perChannel = reference.length / w.scale.length;
      const dequantized = new Float32Array(reference.length);
      for (let i = 0; i < dequantized.length; i++) {
        const c = Math.floor(i / perChannel);
        dequantized[i] = ((w.int[i] as number) - (w.zeroPoint?.[c] ?? 0)) * (w.scale[c] as number);
      }
      weightSqnr = sqnr(reference, dequantized);
    }
    return { scale: m.scale, zeroPoint: m.zeroPoint, ...(weightSqnr !== undefined ? { weightSqnr } : {}) };
  };
  {
    step("torch eager static");
    const started = performance.now();
    const { module, moduleOf } = torch.moduleFromIr(ir);
    const model = new torch.Sequential(
      ["quant", new torch.QuantStub()],
      ["inner", module],
      ["dequant", new torch.DeQuantStub()],
    ).eval();
    torch.fuseModules(model, fusions("inner.", moduleOf));
    torch.prepare(model, qconfig);
    calibrate(model);
    torch.convert(model);
    const seconds = (performance.now() - started) / 1000;
    const modules = new Map(model.namedModules());
    const perLayer: Record<string, { scale: number; zeroPoint: number; weightSqnr?: number }> = {};
    for (const { node } of layers) {
      const q = qparamsOf(modules, `inner.${moduleOf.get(node.name)}`, node);
      if (q !== undefined) perLayer[node.name] = q;
    }
    await measure(
      {
        framework: "torch",
        approach: "static",
        format: "eager",
        emulated: false,
        runtime: "@zeropoint/torch (fbgemm arithmetic in TypeScript)",
        sizeBytes: stateBytes(model),
        sizeNote: "int8 weights + scales + float biases",
        quantizeSeconds: seconds,
        layers: perLayer,
      },
      run(model),
    );
  }
  {
    step("torch FX static");
    const started = performance.now();
    const { module, moduleOf } = torch.moduleFromIr(ir);
    const example = new torch.Tensor(calibration[0]?.subarray(0, per) as Float32Array, [1, ...sampleShape]);
    const prepared = torch.prepareFx(module, new torch.QConfigMapping().setGlobal(qconfig), example);
    calibrate(prepared);
    const converted = torch.convertFx(prepared);
    const seconds = (performance.now() - started) / 1000;
    const modules = new Map(converted.namedModules());
    const perLayer: Record<string, { scale: number; zeroPoint: number; weightSqnr?: number }> = {};
    for (const { node } of layers) {
      const q = qparamsOf(modules, moduleOf.get(node.name), node);
      if (q !== undefined) perLayer[node.name] = q;
    }
    await measure(
      {
        framework: "torch",
        approach: "static",
        format: "FX",
        emulated: false,
        runtime: "@zeropoint/torch (fbgemm arithmetic in TypeScript)",
        sizeBytes: stateBytes(converted),
        sizeNote: "int8 weights + scales + float biases",
        quantizeSeconds: seconds,
        layers: perLayer,
      },
      run(converted),
    );
  }
  {
    step("torch dynamic");
    const started = performance.now();
    const { module } = torch.moduleFromIr(ir);
    const model = torch.quantizeDynamic(module);
    const seconds = (performance.now() - started) / 1000;
    await measure(
      {
        framework: "torch",
        approach: "dynamic",
        format: "eager",
        emulated: false,
        runtime: "@zeropoint/torch (TypeScript)",
        sizeBytes: stateBytes(model),
        sizeNote: "int8 Linear weights + float rest",
        quantizeSeconds: seconds,
      },
      run(model),
    );
  }
}

async function tfjsRows(
  ir: IrGraph,
  layers: { node: IrNode; outputNode: IrNode }[],
  calibration: Float32Array[],
  sampleShape: number[],
  measure: Measure,
  step: (s: string) => void,
  shared: SharedStatic,
): Promise<void> {
  const tf = await import("@tensorflow/tfjs-core");
  const zp = await import("@zeropoint/tfjs");
  const { loadTfjs } = await import("../commands/tfjs.js");
  const rt = await loadTfjs();
  const runtime = `tfjs 4.22 (${rt.backend})`;
  const predictWith =
    (m: { predict(x: import("@tensorflow/tfjs-core").Tensor): unknown }): Predict =>
    (x, n) =>
      tf.tidy(
        () =>
          (
            m.predict(tf.tensor(x, [n, ...sampleShape])) as import("@tensorflow/tfjs-core").Tensor
          ).dataSync() as Float32Array,
      );
  {
    step("tfjs static (emulated)");
    const started = performance.now();
    const { model, layerOf } = zp.layersModelFromIr(ir);
    // tfjs keeps TFMOT's scheme and honours the shared recipe's weight granularity, Dense included.
    const q = await zp.quantizeStatic(model, {
      calibration,
      observer: shared.method,
      weights: { perChannelConv: shared.perChannel, perChannelDense: shared.perChannel },
    });
    const seconds = (performance.now() - started) / 1000;
    const perLayer: Record<string, { scale: number; zeroPoint: number; weightSqnr?: number }> = {};
    for (const { node } of layers) {
      const name = layerOf.get(node.name) as string;
      const t = q.parameters.tensors[name];
      const floatKernel = model.getLayer(name).getWeights()[0]?.dataSync() as Float32Array;
      const fqKernel = q.model.getLayer(name).getWeights()[0]?.dataSync() as Float32Array;
      if (t !== undefined)
        perLayer[node.name] = {
          scale: t.scale[0] as number,
          zeroPoint: t.zeroPoint[0] as number,
          weightSqnr: sqnr(floatKernel, fqKernel),
        };
    }
    let weightBytes = 0;
    for (const l of q.parameters.layers)
      if (l.kernel !== undefined) weightBytes += q.model.getLayer(l.name).getWeights()[0]?.size ?? 0;
    await measure(
      {
        framework: "tfjs",
        approach: "static",
        format: "fake-quant",
        emulated: true,
        runtime,
        quantizeSeconds: seconds,
        layers: perLayer,
        sizeBytes: weightBytes,
        sizeNote: "as int8 kernels (the emulated model stores float32)",
      },
      predictWith(q.model),
    );
    step("tfjs integer executor");
    const executor = zp.IntegerExecutor.fromModel(q.parameters, q.model);
    const output = q.parameters.outputs[0] as string;
    await measure(
      {
        framework: "tfjs",
        approach: "static",
        format: "integer executor",
        emulated: false,
        runtime: "zeropoint integer executor (core int8 kernels)",
        quantizeSeconds: seconds,
        layers: perLayer,
        sizeBytes: weightBytes,
        sizeNote: "int8 kernels",
      },
      (x, n) => executor.run(x, [n, ...sampleShape]).outputs.get(output)?.data as Float32Array,
    );
  }
  {
    step("tfjs weight-only");
    const started = performance.now();
    const { model } = zp.layersModelFromIr(ir);
    let artifacts: import("@tensorflow/tfjs-core").io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
      }),
    );
    const result = zp.quantizeWeights(artifacts as import("@tensorflow/tfjs-core").io.ModelArtifacts, {
      weightType: "uint8",
    });
    const loaded = await zp.loadLayersModelChecked(result.artifacts);
    const seconds = (performance.now() - started) / 1000;
    const topology = JSON.stringify(result.artifacts.modelTopology).length;
    await measure(
      {
        framework: "tfjs",
        approach: "weight-only",
        format: "storage uint8",
        emulated: false,
        runtime,
        sizeBytes: result.bytesAfter + topology,
        sizeNote: "weights + model.json topology",
        quantizeSeconds: seconds,
      },
      predictWith(loaded),
    );
  }
}

/** Histograms (64 bins) of each quantized layer's float output over the calibration set. */
async function activationHistograms(
  ir: IrGraph,
  layers: { node: IrNode; outputNode: IrNode }[],
  calibration: Float32Array[],
  sampleShape: number[],
): Promise<CompareReport["histograms"]> {
  const torch = await import("@zeropoint/torch");
  const { module, moduleOf } = torch.moduleFromIr(ir);
  const per = sampleShape.reduce((a, b) => a * b, 1);
  const wanted = new Map(layers.map((l) => [moduleOf.get(l.outputNode.name) as string, l.node.name]));
  const values = new Map<string, Float32Array[]>();
  torch.noGrad(() => {
    for (const b of calibration) {
      let x = new torch.Tensor(b, [b.length / per, ...sampleShape]);
      for (const [name, child] of module.namedChildren()) {
        x = child.call(x);
        const layer = wanted.get(name);
        if (layer !== undefined) values.set(layer, [...(values.get(layer) ?? []), Float32Array.from(x.data)]);
      }
    }
  });
  return layers.map(({ node }) => {
    const parts = values.get(node.name) ?? [];
    let min = 0;
    let max = 0;
    for (const p of parts)
      for (const v of p) {
        if (v < min) min = v;
        if (v > max) max = v;
      }
    const counts = new Array<number>(64).fill(0);
    const width = (max - min) / 64 || 1;
    for (const p of parts)
      for (const v of p) {
        const bin = Math.min(63, Math.floor((v - min) / width));
        counts[bin] = (counts[bin] as number) + 1;
      }
    return { layer: node.name, min, max, counts };
  });
}

/**
 * Weight SQNR of one layer in a QDQ model: the DequantizeLinear feeding the layer's weight input,
 * dequantized (per-tensor or along its axis) against the IR's float weight.
 */
function qdqWeightSqnr(
  onnx: typeof import("@zeropoint/onnx"),
  model: import("@zeropoint/onnx").OnnxModel,
  node: IrNode,
): number | undefined {
  const graph = model.graph;
  const reference = node.weights.weight;
  if (graph === undefined || reference === undefined) return undefined;
  const layer = graph.node.find((n) => n.name === node.name);
  const dq = graph.node.find((n) => n.opType === "DequantizeLinear" && n.output[0] === layer?.input[1]);
  if (dq === undefined) return undefined;
  const init = (name: string | undefined) => graph.initializer.find((t) => t.name === name);
  const q = init(dq.input[0]);
  const scale = init(dq.input[1]);
  if (q === undefined || scale === undefined) return undefined;
  const ints = onnx.readIntegers(q);
  const scales = onnx.readFloat32(scale);
  const zps = dq.input[2] ? onnx.readIntegers(init(dq.input[2]) as import("@zeropoint/onnx").OnnxTensor) : [0];
  if (ints.length !== reference.data.length) return undefined;
  const dims = onnx.tensorDims(q);
  const axisAttr = dq.attribute.find((a) => a.name === "axis")?.i;
  const axis =
    scales.length === 1 ? 0 : Number(axisAttr ?? 1) < 0 ? dims.length + Number(axisAttr) : Number(axisAttr ?? 1);
  const stride = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const dequantized = new Float32Array(ints.length);
  for (let i = 0; i < ints.length; i++) {
    const c = scales.length === 1 ? 0 : Math.floor(i / stride) % (dims[axis] as number);
    dequantized[i] = ((ints[i] as number) - (zps[c] ?? zps[0] ?? 0)) * (scales[c] as number);
  }
  return sqnr(reference.data, dequantized);
}
