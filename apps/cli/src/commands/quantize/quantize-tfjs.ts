import { existsSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { type CalibrationMethod, ZeropointError } from "@zeropoint/core";
import { loadTfjsAdapter } from "../../adapters.js";
import { writeFileAtomic } from "../../atomic-write.js";
import { loadCalibrationData } from "../../data/calibration-data.js";
import { UsageError } from "../../errors.js";
import { assertOutputDirectorySafe } from "../../output-guard.js";
import { ProgressBar } from "../../progress.js";
import { bytes, db, table } from "../../report.js";

type TfjsAdapter = typeof import("@zeropoint/tfjs");
type Tf = typeof import("@tensorflow/tfjs-core");
type Tfl = typeof import("@tensorflow/tfjs-layers");

const TFJS_PACKAGES =
  "@zeropoint/tfjs @tensorflow/tfjs-core @tensorflow/tfjs-layers @tensorflow/tfjs-converter @tensorflow/tfjs-backend-wasm";

interface TfjsRuntime {
  readonly zp: TfjsAdapter;
  readonly tf: Tf;
  readonly tfl: Tfl;
  readonly tfconv: typeof import("@tensorflow/tfjs-converter");
  readonly backend: string;
}

/**
 * Loads the tfjs adapter, tfjs and a backend lazily (the adapter's `selectBackend`: tfjs-node when
 * installed, else wasm, else cpu), each missing piece named in a `missing-dependency` error.
 */
export async function loadTfjs(preferred?: string): Promise<TfjsRuntime> {
  const zp = await loadTfjsAdapter();
  let tf: Tf;
  let tfl: Tfl;
  let tfconv: typeof import("@tensorflow/tfjs-converter");
  try {
    tf = await import("@tensorflow/tfjs-core");
    tfl = await import("@tensorflow/tfjs-layers");
    tfconv = await import("@tensorflow/tfjs-converter");
  } catch (cause) {
    throw new ZeropointError("missing-dependency", `TensorFlow.js models need: npm install ${TFJS_PACKAGES}`, {
      cause,
    });
  }
  if (preferred !== undefined && !(preferred in zp.TFJS_BACKENDS))
    throw new UsageError(`--backend must be tensorflow, wasm or cpu, got ${preferred}`);
  return { zp, tf, tfl, tfconv, backend: await zp.selectBackend(preferred) };
}

/** Flags of `zeropoint quantize` that apply to tfjs models. */
export interface TfjsQuantizeFlags {
  readonly input: string;
  /** Directories besides the model's own that weight shards may resolve into (`--allow-dir`). */
  readonly allowDirs: readonly string[];
  readonly output: string;
  readonly approach: "static" | "dynamic" | "weight-only";
  readonly weightType: string;
  readonly weightRange: "minmax" | "mse" | "percentile";
  readonly minSqnr: number | undefined;
  readonly weightBits: number;
  readonly perChannel: boolean;
  readonly calibrate: CalibrationMethod;
  readonly calibData: string | undefined;
  readonly samples: number;
  readonly batchSize: number;
  readonly checkSamples: number;
  readonly backend: string | undefined;
  /** `--input-shape`, and image options for a directory of images (`--layout nhwc`, `--resize`). */
  readonly inputShapes: Record<string, number[]>;
  readonly images: import("../../data/calibration-data.js").ImageOptions;
  readonly json: boolean;
}

function inputDims(
  artifacts: import("@tensorflow/tfjs-core").io.ModelArtifacts,
  zp: TfjsAdapter,
): { name: string; dims: (number | string)[] } {
  const topology = artifacts.modelTopology as Record<string, unknown>;
  if (Array.isArray(topology.node)) {
    const placeholder = (topology.node as { name: string; op: string; attr?: Record<string, unknown> }[]).find(
      (n) => n.op === "Placeholder",
    );
    const dim = ((placeholder?.attr?.shape as { shape?: { dim?: { size: string }[] } })?.shape?.dim ?? []).map((d) =>
      Number(d.size),
    );
    return { name: placeholder?.name ?? "input", dims: dim.map((d) => (d < 0 ? "batch" : d)) };
  }
  const graph = zp.parseLayerGraph(topology, "model.json");
  const input = graph.nodes.find((n) => n.name === graph.inputs[0]);
  const shape = (input?.config.batch_input_shape as (number | null)[] | undefined) ?? [];
  return { name: input?.name ?? "input", dims: shape.map((d) => d ?? "batch") };
}

function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

type Predict = (x: Float32Array) => Float32Array;

/** What both tfjs approaches read: the runtime, the model's artifacts, its input, the data. */
interface TfjsRun {
  readonly started: number;
  readonly rt: TfjsRuntime;
  readonly outDir: string;
  readonly artifacts: import("@tensorflow/tfjs-core").io.ModelArtifacts;
  readonly isGraph: boolean;
  readonly data: ReturnType<typeof loadCalibrationData> | undefined;
  /** The data's batches of the model's one input. */
  readonly batches: Float32Array[];
  readonly shapeOf: (x: Float32Array) => number[];
  readonly quiet: boolean;
}

/** `-o` is a directory that neither is nor holds the input model (after symlinks too). */
function checkOutputDirectory(flags: TfjsQuantizeFlags): string {
  const outDir = resolve(flags.output);
  if (existsSync(outDir) && !statSync(outDir).isDirectory()) {
    throw new ZeropointError("io-error", `-o ${flags.output}: tfjs output is a directory, and this is a file`);
  }
  if (resolve(flags.input).startsWith(`${outDir}/`) || resolve(flags.input) === join(outDir, "model.json")) {
    throw new UsageError("the output directory must not hold the input model");
  }
  // The same after symlinks: -o may be a link to the input model's directory.
  assertOutputDirectorySafe(dirname(resolve(flags.input)), outDir);
  return outDir;
}

/** Loads the runtime, the model's artifacts and the calibration (or check) data. */
async function startTfjsRun(flags: TfjsQuantizeFlags, out: (line: string) => void): Promise<TfjsRun> {
  const started = performance.now();
  const rt = await loadTfjs(flags.backend);
  const outDir = checkOutputDirectory(flags);
  const artifacts = rt.zp.readModelArtifacts(flags.input, { allowDirs: flags.allowDirs });
  const isGraph = Array.isArray((artifacts.modelTopology as Record<string, unknown>).node);
  const quiet = flags.json;
  const approach = flags.approach === "dynamic" ? "weight-only" : flags.approach;
  const input = inputDims(artifacts, rt.zp);
  const data =
    flags.calibData === undefined && approach === "static"
      ? undefined
      : loadCalibrationData(flags.calibData ?? "random", [input], {
          samples: approach === "static" ? flags.samples : flags.checkSamples,
          batchSize: flags.batchSize,
          inputShapes: flags.inputShapes,
          images: flags.images,
        });
  if (!quiet) {
    out(
      `zeropoint quantize ${flags.input} -> ${flags.output}/ (tfjs ${isGraph ? "GraphModel" : "LayersModel"}, backend ${rt.backend})`,
    );
    if (flags.approach === "dynamic") {
      out(
        "  note: for tfjs models `dynamic` means weight-only (storage): weights are stored quantized and dequantized to float32 at load",
      );
    }
  }
  const batches: Float32Array[] = [];
  if (data !== undefined) {
    for await (const batch of data.source() as AsyncIterable<Record<string, { data: Float32Array; dims: number[] }>>) {
      const t = batch[input.name] ?? Object.values(batch)[0];
      if (t !== undefined) batches.push(t.data);
    }
  }
  const inner = input.dims.slice(1).map(Number);
  const per = inner.reduce((a, b) => a * b, 1);
  const shapeOf = (x: Float32Array) => [x.length / per, ...inner];
  return { started, rt, outDir, artifacts, isGraph, data, batches, shapeOf, quiet };
}

/** `predict` of a tfjs LayersModel or GraphModel on one batch of the model's one input. */
function predictWith(run: TfjsRun, model: { predict(x: import("@tensorflow/tfjs-core").Tensor): unknown }): Predict {
  const { tf } = run.rt;
  return (x) =>
    tf.tidy(
      () =>
        (
          model.predict(tf.tensor(x, run.shapeOf(x))) as import("@tensorflow/tfjs-core").Tensor
        ).dataSync() as Float32Array,
    );
}

/** The float model as loaded (LayersModel checked for unknown layers, or GraphModel). */
async function floatPredictor(run: TfjsRun, where: string): Promise<Predict> {
  const { tf, tfconv, zp } = run.rt;
  const model = run.isGraph
    ? await tfconv.loadGraphModel(tf.io.fromMemory(run.artifacts))
    : await zp.loadLayersModelChecked(run.artifacts, where);
  return predictWith(run, model);
}

/** `zeropoint quantize <dir>/model.json -o <outdir>` for tfjs models. */
export async function runQuantizeTfjs(
  flags: TfjsQuantizeFlags,
  out: (line: string) => void,
): Promise<Record<string, unknown>> {
  const run = await startTfjsRun(flags, out);
  const approach = flags.approach === "dynamic" ? "weight-only" : flags.approach;
  if (approach === "weight-only") return tfjsWeightOnly(run, flags, out);
  if (run.isGraph) {
    throw new ZeropointError(
      "unsupported-op",
      `${flags.input}: static quantization of tfjs GraphModels is not supported; use --approach weight-only`,
    );
  }
  if (run.data === undefined)
    throw new UsageError(
      "static quantization needs --calib-data (mnist[:split], random, or a directory of .npy files)",
    );
  return tfjsStatic(run, run.data, flags, out);
}

/** Weight-only storage: quantized weights written, checked against float on the check samples. */
async function tfjsWeightOnly(run: TfjsRun, flags: TfjsQuantizeFlags, out: (line: string) => void) {
  const { tf, tfconv, zp } = run.rt;
  const weightType = flags.weightType === "int8" ? "uint8" : flags.weightType;
  if (!["uint8", "uint16", "float16"].includes(weightType)) {
    throw new UsageError(`tfjs weight-only storage is uint8, uint16 or float16, got --weight-type ${flags.weightType}`);
  }
  const result = zp.quantizeWeights(run.artifacts, {
    weightType: weightType as "uint8" | "uint16" | "float16",
    method: flags.weightRange,
    ...(flags.minSqnr !== undefined ? { minSqnr: flags.minSqnr } : {}),
  });
  const float = await floatPredictor(run, flags.input);
  const quantized = predictWith(
    run,
    run.isGraph
      ? await tfconv.loadGraphModel(tf.io.fromMemory(result.artifacts))
      : await zp.loadLayersModelChecked(result.artifacts, flags.input),
  );
  const check = zp.checkTfjsQuantized(
    (b) => float(b.data),
    (b) => quantized(b.data),
    checkBatches(run, flags),
  );
  zp.writeModelArtifacts(run.outDir, result.artifacts);
  const report = {
    input: flags.input,
    output: run.outDir,
    approach: "weight-only",
    weightType,
    backend: run.rt.backend,
    sizes: { float: result.bytesBefore, quantized: result.bytesAfter, ratio: result.bytesAfter / result.bytesBefore },
    weights: result.weights,
    check: { samples: check.samples, top1Agreement: check.top1Agreement ?? null, outputSqnr: check.outputSqnr },
    seconds: (performance.now() - run.started) / 1000,
  };
  if (!run.quiet) printWeightOnly(report, result, out);
  return report;
}

function printWeightOnly(
  report: {
    sizes: { ratio: number };
    check: { samples: number; top1Agreement: number | null; outputSqnr: number };
    seconds: number;
    output: string;
  },
  result: import("@zeropoint/tfjs").QuantizeWeightsResult,
  out: (line: string) => void,
): void {
  const { samples, top1Agreement, outputSqnr } = report.check;
  out("");
  out(
    table(
      ["weight", "shape", "stored", "SQNR dB", "note"],
      result.weights.map((w) => [w.name, `[${w.shape.join(",")}]`, w.storedAs, db(w.sqnr), w.skipped ?? ""]),
    ),
  );
  out("");
  out(
    table(
      ["result", "value"],
      [
        [
          "weight bytes",
          `${bytes(result.bytesBefore)} -> ${bytes(result.bytesAfter)} (${report.sizes.ratio.toFixed(3)}x)`,
        ],
        [
          "top-1 agreement with float",
          top1Agreement === null ? "-" : `${(100 * top1Agreement).toFixed(2)}% of ${samples} samples`,
        ],
        ["output SQNR (worst batch)", `${db(outputSqnr)} dB`],
        ["time", `${report.seconds.toFixed(1)} s`],
      ],
    ),
  );
  out("");
  out(`wrote ${join(report.output, "model.json")} (loads with stock tf.loadLayersModel / tf.loadGraphModel)`);
}

/** The check batches: the first ones of the data, enough for `--check-samples`. */
function checkBatches(run: TfjsRun, flags: TfjsQuantizeFlags): { data: Float32Array; shape: number[] }[] {
  return run.batches
    .slice(0, Math.ceil(flags.checkSamples / flags.batchSize))
    .map((data) => ({ data, shape: run.shapeOf(data) }));
}

/**
 * The fake-quantized model against float, and the integer executor against the fake-quantized
 * model, on the check samples (the executor's top-1 is null for models with ops it lacks).
 */
function staticCheck(
  run: TfjsRun,
  quantized: Awaited<ReturnType<TfjsRun["rt"]["zp"]["quantizeStatic"]>>,
  float: Predict,
  flags: TfjsQuantizeFlags,
) {
  const { zp } = run.rt;
  const fakeQuant = predictWith(run, quantized.model);
  const check = zp.checkTfjsQuantized(
    (b) => float(b.data),
    (b) => fakeQuant(b.data),
    checkBatches(run, flags),
    {
      run: zp.IntegerExecutor.fromModel(quantized.parameters, quantized.model),
      output: quantized.parameters.outputs[0] as string,
    },
  );
  return {
    samples: check.samples,
    top1AgreementWithFloat: check.top1Agreement ?? Number.NaN,
    integerExecutorTop1Agreement: check.integerExecutorTop1Agreement ?? null,
    outputSqnr: check.outputSqnr,
  };
}

/** Static PTQ emulated in float: calibrated, checked, written with its parameters JSON. */
async function tfjsStatic(
  run: TfjsRun,
  data: NonNullable<TfjsRun["data"]>,
  flags: TfjsQuantizeFlags,
  out: (line: string) => void,
) {
  const { zp } = run.rt;
  const model = await zp.loadLayersModelChecked(run.artifacts, flags.input);
  const bar = new ProgressBar("  calibrating", process.stderr, !run.quiet);
  const quantized = await zp.quantizeStatic(model, {
    calibration: run.batches,
    observer: flags.calibrate,
    weights: { bits: flags.weightBits, perChannelDense: flags.perChannel },
    onProgress: (_batches, samples) => bar.update(samples, data.samples, "samples"),
  });
  bar.done(`  calibrated on ${run.batches.reduce((a, b) => a + (run.shapeOf(b)[0] as number), 0)} samples`);
  const check = staticCheck(run, quantized, await floatPredictor(run, flags.input), flags);
  await quantized.model.save(zp.fileSystem(run.outDir));
  const paramsPath = join(run.outDir, "quantization-params.json");
  writeJsonAtomic(paramsPath, quantized.parameters);
  const report = {
    input: flags.input,
    output: run.outDir,
    approach: "static",
    emulated: true,
    // What a user needs to know before shipping it: the fake-quantized model is float32 and loads
    // only where @zeropoint/tfjs registers its layer.
    loadsIn: "@tensorflow/tfjs with @zeropoint/tfjs imported (registers the ZeropointFakeQuant layer)",
    storage: "float32 weights (no size saving); use --approach weight-only for a smaller file stock tfjs loads",
    backend: run.rt.backend,
    foldedBatchNorms: quantized.foldedBatchNorms,
    parameters: paramsPath,
    floatWeightBytes: (run.artifacts.weightSpecs ?? []).reduce((a, w) => a + zp.storedByteLength(w), 0),
    check,
    seconds: (performance.now() - run.started) / 1000,
  };
  if (!run.quiet) printStatic(report, quantized.parameters.tensors, out);
  return report;
}

function printStatic(
  report: {
    foldedBatchNorms: string[];
    check: ReturnType<typeof staticCheck>;
    seconds: number;
    output: string;
    parameters: string;
  },
  tensors: Readonly<Record<string, { dtype: string; scale: number[]; zeroPoint: number[] }>>,
  out: (line: string) => void,
): void {
  const { check } = report;
  out("");
  out(
    table(
      ["tensor", "dtype", "scale", "zero point"],
      Object.entries(tensors)
        .filter(([name]) => !name.endsWith("/kernel"))
        .map(([name, t]) => [name, t.dtype, (t.scale[0] as number).toPrecision(6), t.zeroPoint[0] as number]),
    ),
  );
  out("");
  out(
    table(
      ["result", "value"],
      [
        ["BatchNorm folded", report.foldedBatchNorms.join(", ") || "-"],
        [
          "top-1 agreement with float",
          `${(100 * check.top1AgreementWithFloat).toFixed(2)}% of ${check.samples} samples`,
        ],
        [
          "integer executor vs fake-quant top-1",
          check.integerExecutorTop1Agreement !== null
            ? `${(100 * check.integerExecutorTop1Agreement).toFixed(2)}%`
            : "not supported for this model's ops",
        ],
        ["output SQNR (worst batch)", `${db(check.outputSqnr)} dB`],
        ["time", `${report.seconds.toFixed(1)} s`],
      ],
    ),
  );
  out("");
  out(`wrote ${join(report.output, "model.json")} (fake-quantized, emulated int8) and ${report.parameters}`);
  out(
    "note: this model simulates int8 in float32: it is no smaller, and it loads only where @zeropoint/tfjs is imported (it registers the ZeropointFakeQuant layer). For a smaller file that stock tfjs loads, use --approach weight-only.",
  );
}

/** `zeropoint inspect <model.json>` for tfjs models. */
export async function runInspectTfjs(
  path: string,
  json: boolean,
  out: (line: string) => void,
  allowDirs: readonly string[] = [],
): Promise<Record<string, unknown>> {
  const zp = await loadTfjsAdapter();
  const info = zp.inspectModel(zp.readModelArtifacts(path, { allowDirs }));
  const report = { path, ...info };
  if (json) return report;
  out(
    `${path}: tfjs ${info.kind === "graph-model" ? "GraphModel" : "LayersModel"}, ${info.weights.length} weights, ${bytes(info.weightBytes)}`,
  );
  out("");
  out(
    table(
      ["op", "count"],
      Object.entries(info.opCounts).map(([k, v]) => [k, v]),
    ),
  );
  out("");
  out(
    table(
      ["layer", "type", "static quantization"],
      info.layers.map((l) => [l.name, l.type, l.staticQuantization]),
    ),
  );
  out("");
  out(
    table(
      ["weight", "shape", "stored", "bytes", "weight-only"],
      info.weights.map((w) => [w.name, `[${w.shape.join(",")}]`, w.storedAs, w.bytes, w.weightOnly]),
    ),
  );
  return report;
}
