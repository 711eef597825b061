import { existsSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { type CalibrationMethod, sqnr, top1, ZeropointError } from "@zeropoint/core";
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

/** `zeropoint quantize <dir>/model.json -o <outdir>` for tfjs models. */
export async function runQuantizeTfjs(
  flags: TfjsQuantizeFlags,
  out: (line: string) => void,
): Promise<Record<string, unknown>> {
  const started = performance.now();
  const rt = await loadTfjs(flags.backend);
  const { zp, tf, tfconv } = rt;
  const outDir = resolve(flags.output);
  if (existsSync(outDir) && !statSync(outDir).isDirectory()) {
    throw new ZeropointError("io-error", `-o ${flags.output}: tfjs output is a directory, and this is a file`);
  }
  if (resolve(flags.input).startsWith(`${outDir}/`) || resolve(flags.input) === join(outDir, "model.json")) {
    throw new UsageError("the output directory must not hold the input model");
  }
  // The same after symlinks: -o may be a link to the input model's directory.
  assertOutputDirectorySafe(dirname(resolve(flags.input)), outDir);
  const artifacts = zp.readModelArtifacts(flags.input, { allowDirs: flags.allowDirs });
  const isGraph = Array.isArray((artifacts.modelTopology as Record<string, unknown>).node);
  const quiet = flags.json;
  const approach = flags.approach === "dynamic" ? "weight-only" : flags.approach;
  const input = inputDims(artifacts, zp);
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
  const shapeOf = (x: Float32Array) => {
    const inner = input.dims.slice(1).map(Number);
    const per = inner.reduce((a, b) => a * b, 1);
    return [x.length / per, ...inner];
  };
  const predictFloat = async (): Promise<(x: Float32Array) => Float32Array> => {
    if (isGraph) {
      const g = await tfconv.loadGraphModel(tf.io.fromMemory(artifacts));
      return (x) =>
        tf.tidy(
          () =>
            (g.predict(tf.tensor(x, shapeOf(x))) as import("@tensorflow/tfjs-core").Tensor).dataSync() as Float32Array,
        );
    }
    const m = await zp.loadLayersModelChecked(artifacts, flags.input);
    return (x) =>
      tf.tidy(
        () =>
          (m.predict(tf.tensor(x, shapeOf(x))) as import("@tensorflow/tfjs-core").Tensor).dataSync() as Float32Array,
      );
  };

  if (approach === "weight-only") {
    const weightType = flags.weightType === "int8" ? "uint8" : flags.weightType;
    if (!["uint8", "uint16", "float16"].includes(weightType)) {
      throw new UsageError(
        `tfjs weight-only storage is uint8, uint16 or float16, got --weight-type ${flags.weightType}`,
      );
    }
    const result = zp.quantizeWeights(artifacts, {
      weightType: weightType as "uint8" | "uint16" | "float16",
      method: flags.weightRange,
      ...(flags.minSqnr !== undefined ? { minSqnr: flags.minSqnr } : {}),
    });
    const float = await predictFloat();
    const quantizedModel = isGraph
      ? await tfconv.loadGraphModel(tf.io.fromMemory(result.artifacts))
      : await zp.loadLayersModelChecked(result.artifacts, flags.input);
    let agree = 0;
    let rows = 0;
    let worst = Number.POSITIVE_INFINITY;
    for (const x of batches.slice(0, Math.ceil(flags.checkSamples / flags.batchSize))) {
      const a = float(x);
      const b = tf.tidy(
        () =>
          (
            quantizedModel.predict(tf.tensor(x, shapeOf(x))) as import("@tensorflow/tfjs-core").Tensor
          ).dataSync() as Float32Array,
      );
      const ta = top1(a, shapeOf(x)[0] as number);
      const tb = top1(b, shapeOf(x)[0] as number);
      for (let i = 0; i < ta.length; i++) if (ta[i] === tb[i]) agree++;
      rows += ta.length;
      worst = Math.min(worst, sqnr(a, b));
    }
    zp.writeModelArtifacts(outDir, result.artifacts);
    const report = {
      input: flags.input,
      output: outDir,
      approach: "weight-only",
      weightType,
      backend: rt.backend,
      sizes: { float: result.bytesBefore, quantized: result.bytesAfter, ratio: result.bytesAfter / result.bytesBefore },
      weights: result.weights,
      check: { samples: rows, top1Agreement: rows === 0 ? null : agree / rows, outputSqnr: worst },
      seconds: (performance.now() - started) / 1000,
    };
    if (quiet) return report;
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
          ["top-1 agreement with float", rows === 0 ? "-" : `${((100 * agree) / rows).toFixed(2)}% of ${rows} samples`],
          ["output SQNR (worst batch)", `${db(worst)} dB`],
          ["time", `${report.seconds.toFixed(1)} s`],
        ],
      ),
    );
    out("");
    out(`wrote ${join(outDir, "model.json")} (loads with stock tf.loadLayersModel / tf.loadGraphModel)`);
    return report;
  }

  if (isGraph) {
    throw new ZeropointError(
      "unsupported-op",
      `${flags.input}: static quantization of tfjs GraphModels is not supported; use --approach weight-only`,
    );
  }
  if (data === undefined)
    throw new UsageError(
      "static quantization needs --calib-data (mnist[:split], random, or a directory of .npy files)",
    );
  const model = await zp.loadLayersModelChecked(artifacts, flags.input);
  const bar = new ProgressBar("  calibrating", process.stderr, !quiet);
  const quantized = await zp.quantizeStatic(model, {
    calibration: batches,
    observer: flags.calibrate,
    weights: { bits: flags.weightBits, perChannelDense: flags.perChannel },
    onProgress: (_batches, samples) => bar.update(samples, data.samples, "samples"),
  });
  bar.done(`  calibrated on ${batches.reduce((a, b) => a + (shapeOf(b)[0] as number), 0)} samples`);
  const float = await predictFloat();
  const executor = zp.IntegerExecutor.fromModel(quantized.parameters, quantized.model);
  let agreeFloat = 0;
  let agreeInt = 0;
  let rows = 0;
  let worst = Number.POSITIVE_INFINITY;
  let integerSupported = true;
  for (const x of batches.slice(0, Math.ceil(flags.checkSamples / flags.batchSize))) {
    const shape = shapeOf(x);
    const a = float(x);
    const b = tf.tidy(
      () =>
        (
          quantized.model.predict(tf.tensor(x, shape)) as import("@tensorflow/tfjs-core").Tensor
        ).dataSync() as Float32Array,
    );
    const batch = shape[0] as number;
    const ta = top1(a, batch);
    const tb = top1(b, batch);
    let tc: Int32Array | undefined;
    try {
      tc = top1(
        executor.run(x, shape).outputs.get(quantized.parameters.outputs[0] as string)?.data as Float32Array,
        batch,
      );
    } catch (e) {
      if (!(ZeropointError.isInstance(e) && e.code === "unsupported-op")) throw e;
      integerSupported = false;
    }
    for (let i = 0; i < ta.length; i++) {
      if (ta[i] === tb[i]) agreeFloat++;
      if (tc !== undefined && tc[i] === tb[i]) agreeInt++;
    }
    rows += ta.length;
    worst = Math.min(worst, sqnr(a, b));
  }
  await quantized.model.save(zp.fileSystem(outDir));
  const paramsPath = join(outDir, "quantization-params.json");
  writeJsonAtomic(paramsPath, quantized.parameters);
  const floatBytes = (artifacts.weightSpecs ?? []).reduce((a, w) => a + zp.storedByteLength(w), 0);
  const report = {
    input: flags.input,
    output: outDir,
    approach: "static",
    emulated: true,
    // What a user needs to know before shipping it: the fake-quantized model is float32 and loads
    // only where @zeropoint/tfjs registers its layer.
    loadsIn: "@tensorflow/tfjs with @zeropoint/tfjs imported (registers the ZeropointFakeQuant layer)",
    storage: "float32 weights (no size saving); use --approach weight-only for a smaller file stock tfjs loads",
    backend: rt.backend,
    foldedBatchNorms: quantized.foldedBatchNorms,
    parameters: paramsPath,
    floatWeightBytes: floatBytes,
    check: {
      samples: rows,
      top1AgreementWithFloat: agreeFloat / rows,
      integerExecutorTop1Agreement: integerSupported ? agreeInt / rows : null,
      outputSqnr: worst,
    },
    seconds: (performance.now() - started) / 1000,
  };
  if (quiet) return report;
  out("");
  out(
    table(
      ["tensor", "dtype", "scale", "zero point"],
      Object.entries(quantized.parameters.tensors)
        .filter(([name]) => !name.endsWith("/kernel"))
        .map(([name, t]) => [name, t.dtype, (t.scale[0] as number).toPrecision(6), t.zeroPoint[0] as number]),
    ),
  );
  out("");
  out(
    table(
      ["result", "value"],
      [
        ["BatchNorm folded", quantized.foldedBatchNorms.join(", ") || "-"],
        ["top-1 agreement with float", `${((100 * agreeFloat) / rows).toFixed(2)}% of ${rows} samples`],
        [
          "integer executor vs fake-quant top-1",
          integerSupported ? `${((100 * agreeInt) / rows).toFixed(2)}%` : "not supported for this model's ops",
        ],
        ["output SQNR (worst batch)", `${db(worst)} dB`],
        ["time", `${report.seconds.toFixed(1)} s`],
      ],
    ),
  );
  out("");
  out(`wrote ${join(outDir, "model.json")} (fake-quantized, emulated int8) and ${paramsPath}`);
  out(
    "note: this model simulates int8 in float32: it is no smaller, and it loads only where @zeropoint/tfjs is imported (it registers the ZeropointFakeQuant layer). For a smaller file that stock tfjs loads, use --approach weight-only.",
  );
  return report;
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
