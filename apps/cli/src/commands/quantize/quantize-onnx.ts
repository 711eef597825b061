import { existsSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { type CalibrationMethod, type TargetCpu, type TensorRecord, ZeropointError } from "@zeropoint/core";
import { loadOnnxAdapter } from "../../adapters.js";
import type { ImageOptions } from "../../data/calibration-data.js";
import { parseInputValues } from "../../data/input-values.js";
import { loadModelData, type ModelData, takeBatches } from "../../data/model-data.js";
import { UsageError } from "../../errors.js";
import { assertOutputsSafe } from "../../output-guard.js";
import { ProgressBar } from "../../progress.js";
import { bytes, db, table } from "../../report.js";
import { type MaxSize, mixedLayerTable } from "./mixed-precision.js";

/** Parsed flags of `zeropoint quantize`. */
export interface QuantizeFlags {
  readonly input: string;
  readonly output: string;
  readonly approach: "static" | "dynamic" | "weight-only";
  readonly format: "qdq" | "qoperator";
  readonly perChannel: boolean;
  /** `--per-tensor`: opt out of weight-only's per-channel default. */
  readonly perTensor: boolean;
  readonly activationType: "uint8" | "int8" | "uint16" | "int16";
  readonly weightType: "int8" | "uint8" | "int4";
  readonly calibrate: CalibrationMethod;
  readonly calibData: string | undefined;
  readonly samples: number;
  readonly batchSize: number;
  readonly excludeNodes: string[] | undefined;
  readonly opTypes: string[] | undefined;
  readonly plan: string | undefined;
  readonly inputShapes: Record<string, number[]>;
  /** undefined: the target CPU decides (on where uint8 × int8 saturates). */
  readonly reduceRange: boolean | undefined;
  readonly targetCpu: TargetCpu;
  readonly checkLatency: boolean;
  /** Directories besides the model's own that its external data may resolve into (`--allow-dir`). */
  readonly allowDirs: readonly string[];
  readonly symmetricActivations: boolean;
  readonly blockSize: number;
  readonly int4Format: "matmul-nbits" | "dequantize-linear";
  /** int4 MatMulNBits blocks: `rtn` or data-free `hqq`. */
  readonly int4Method: "rtn" | "mse" | "hqq" | "awq" | "gptq";
  /** `--mixed`: int4 with mixed precision within this budget (needs --calib-data). */
  readonly mixed?: { readonly maxSize: MaxSize } | undefined;
  /** `--accuracy-level`: MatMulNBits accuracy_level. */
  readonly accuracyLevel?: 0 | 1 | 2 | 3 | 4 | undefined;
  readonly checkSamples: number;
  readonly target: "node" | "web";
  readonly images: ImageOptions;
  /** `--input name=value`: inputs pinned to a constant. */
  readonly inputValues: readonly string[];
  /** `--vocab-size`: synthetic ids are drawn below this where the model does not tell. */
  readonly vocabSize: number | undefined;
  /** Exit 3 when an output's SQNR against float falls below this (dB). */
  readonly minSqnr: number;
  /** Write and exit 0 even when degraded or when nothing was quantized. */
  readonly allowDegraded: boolean;
  readonly json: boolean;
}

/** Why a quantize run is degraded (exit code 3), or undefined when it is not. */
export function degradedReason(
  report: { quantizedNodes: readonly string[]; floatNodes: readonly { name: string; reason: string }[] },
  outputs: readonly { name: string; sqnr: number }[],
  minSqnr: number,
  synthetic = false,
): string | undefined {
  if (report.quantizedNodes.length === 0) {
    const reasons = new Map<string, number>();
    for (const n of report.floatNodes) reasons.set(n.reason, (reasons.get(n.reason) ?? 0) + 1);
    const why = [...reasons.entries()].map(([r, k]) => `${k} x ${r}`).join("; ");
    return `nothing was quantized: the output is the float model${why ? ` (${why})` : " (no node of a supported op type)"}`;
  }
  const low = outputs.filter((o) => o.sqnr < minSqnr);
  if (low.length > 0)
    return `output SQNR below --min-sqnr ${minSqnr} dB: ${low.map((o) => `${o.name} ${o.sqnr.toFixed(1)} dB`).join(", ")}${synthetic ? " (measured on synthetic inputs; --calib-data checks on real samples)" : ""}`;
  return undefined;
}

type Onnx = Awaited<ReturnType<typeof loadOnnxAdapter>>;
type Model = ReturnType<Onnx["loadModel"]>["model"];
type Common = Parameters<Onnx["quantizeDynamic"]>[1];
type Result = Awaited<ReturnType<Onnx["quantizeStatic"]>>;
type MixedLayers = Awaited<ReturnType<Onnx["quantizeMixed"]>>["report"]["layers"];

/** The output's directory exists, and neither the model file nor its data file is an input. */
function checkOutput(onnx: Onnx, flags: QuantizeFlags): void {
  const outDir = dirname(resolve(flags.output));
  if (!existsSync(outDir))
    throw new ZeropointError("io-error", `cannot write ${flags.output}: directory ${outDir} does not exist`);
  if (!statSync(outDir).isDirectory())
    throw new ZeropointError("io-error", `cannot write ${flags.output}: ${outDir} is not a directory`);
  assertOutputsSafe(
    [flags.input, ...onnx.externalDataFiles(flags.input)],
    [
      { flag: "-o", path: flags.output },
      { flag: "-o (external data)", path: `${flags.output}.data` },
    ],
  );
}

/** Flags that name inputs or op types are checked against the model before any work. */
function checkModelFlags(onnx: Onnx, flags: QuantizeFlags, inputs: readonly { name: string }[]): void {
  for (const name of Object.keys(flags.inputShapes)) {
    if (!inputs.some((i) => i.name === name)) {
      throw new UsageError(
        `--input-shape ${name}: the model has no input ${name} (its inputs: ${inputs.map((i) => i.name).join(", ")})`,
      );
    }
  }
  const known = onnx.QUANTIZABLE_OP_TYPES[flags.approach];
  const unknown = (flags.opTypes ?? []).filter((op) => !known.has(op));
  if (unknown.length > 0) {
    throw new UsageError(
      `--op-types ${unknown.join(",")}: not an op ${flags.approach} quantization handles (it handles ${[...known].sort().join(", ")})`,
    );
  }
}

/** Options every approach shares. */
async function commonOptions(flags: QuantizeFlags): Promise<Common> {
  const plan = flags.plan === undefined ? undefined : await readPlan(flags.plan);
  return {
    // Weight-only int8 is per-channel by default: every consumer it emits for (DequantizeLinear
    // axis) supports it, and per-tensor scales cost accuracy for no size saving.
    perChannel: flags.perChannel || (flags.approach === "weight-only" && !flags.perTensor),
    ...(flags.opTypes ? { opTypes: flags.opTypes } : {}),
    ...(flags.excludeNodes ? { excludeNodes: flags.excludeNodes } : {}),
    ...(flags.reduceRange !== undefined ? { reduceRange: flags.reduceRange } : {}),
    targetCpu: flags.targetCpu,
    ...(plan !== undefined ? { plan } : {}),
  };
}

/** Static quantization with a progress bar over the calibration passes. */
async function quantizeStaticRun(
  onnx: Onnx,
  model: Model,
  flags: QuantizeFlags,
  common: Common,
  data: ModelData | undefined,
): Promise<Result> {
  const quiet = flags.json;
  const calibrationStart = performance.now();
  if (flags.weightType === "int4") throw new UsageError("int4 weights are for --approach weight-only");
  const bar = new ProgressBar("  calibrating", process.stderr, !quiet);
  const result = await onnx.quantizeStatic(model, {
    ...common,
    calibrationData: (data as NonNullable<typeof data>).source,
    format: flags.format,
    activationType: flags.activationType,
    weightType: flags.weightType,
    symmetricActivations: flags.symmetricActivations,
    calibrationMethod: flags.calibrate,
    samples: flags.samples,
    inputShapes: flags.inputShapes,
    target: flags.target,
    onProgress: (p) =>
      bar.update(
        p.samples,
        p.totalSamples ?? (Number.isFinite(data?.samples) ? data?.samples : undefined),
        `samples, pass ${p.pass + 1}/${p.passes}`,
      ),
  });
  bar.done(
    `  calibrated on ${result.report.calibrationSamples} samples in ${((performance.now() - calibrationStart) / 1000).toFixed(1)} s`,
  );
  return result;
}

/** Weight-only int8/int4, mixed precision included. */
async function quantizeWeightOnlyRun(
  onnx: Onnx,
  model: Model,
  flags: QuantizeFlags,
  common: Common,
  data: ModelData | undefined,
): Promise<{ result: Result; mixedLayers?: MixedLayers }> {
  if (flags.weightType === "uint8") throw new UsageError("weight-only ONNX quantization stores int8 or int4 weights");
  const blocks = {
    ...common,
    blockSize: flags.blockSize,
    int4Method: flags.int4Method,
    ...(flags.accuracyLevel !== undefined ? { accuracyLevel: flags.accuracyLevel } : {}),
  };
  if (flags.mixed !== undefined) {
    if (flags.weightType !== "int4") throw new UsageError("--mixed applies to --weight-type int4");
    if (data === undefined) throw new UsageError("--mixed ranks layers on calibration data: add --calib-data");
    if (flags.int4Format !== "matmul-nbits") throw new UsageError("--mixed writes MatMulNBits; drop --int4-format");
    const mixed = await onnx.quantizeMixed(model, {
      ...blocks,
      calibrationData: data.source,
      maxSize: flags.mixed.maxSize,
    });
    return { result: mixed, mixedLayers: mixed.report.layers };
  }
  return {
    result: await onnx.quantizeWeightOnly(model, {
      ...blocks,
      weightType: flags.weightType === "int4" ? "int4" : "int8",
      int4Format: flags.int4Format,
      ...(data !== undefined ? { calibrationData: data.source } : {}),
    }),
  };
}

/** Quantizes with the approach the flags name. */
async function quantizeWithFlags(
  onnx: Onnx,
  model: Model,
  flags: QuantizeFlags,
  common: Common,
  data: ModelData | undefined,
): Promise<{ result: Result; mixedLayers?: MixedLayers }> {
  if (flags.approach === "static") return { result: await quantizeStaticRun(onnx, model, flags, common, data) };
  if (flags.approach === "dynamic") {
    if (flags.weightType === "int4") throw new UsageError("int4 weights are for --approach weight-only");
    return { result: await onnx.quantizeDynamic(model, { ...common, weightType: flags.weightType }) };
  }
  return quantizeWeightOnlyRun(onnx, model, flags, common, data);
}

/** Runs `zeropoint quantize`; returns the JSON-able report. */
export async function runQuantize(flags: QuantizeFlags, out: (line: string) => void): Promise<Record<string, unknown>> {
  const started = performance.now();
  const onnx = await loadOnnxAdapter();
  checkOutput(onnx, flags);
  const { model } = onnx.loadModel(flags.input, { allowDirs: flags.allowDirs });
  const inputs = onnx.modelInputSpecs(model);
  const constants: TensorRecord = parseInputValues(flags.inputValues, inputs);
  checkModelFlags(onnx, flags, inputs);
  const common = await commonOptions(flags);
  const dataOptions = {
    batchSize: flags.batchSize,
    inputShapes: flags.inputShapes,
    images: flags.images,
    constants,
    ...(flags.vocabSize !== undefined ? { vocabSize: flags.vocabSize } : {}),
  };
  let data: ModelData | undefined;
  if (flags.approach === "static" || flags.calibData !== undefined) {
    if (flags.calibData === undefined)
      throw new UsageError(
        "static quantization needs --calib-data (mnist[:split], random, or a directory of .npy files)",
      );
    data = loadModelData(flags.calibData, inputs, { ...dataOptions, samples: flags.samples });
  }
  if (!flags.json) {
    out(`zeropoint quantize ${flags.input} -> ${flags.output}`);
    out(
      `  approach ${flags.approach}${flags.approach === "static" ? `, format ${flags.format}, activations ${flags.activationType}, calibration ${flags.calibrate}` : ""}, weights ${flags.weightType}${flags.perChannel ? " per-channel" : ""}`,
    );
    if (data) out(`  data: ${data.description}`);
  }
  const { result, mixedLayers } = await quantizeWithFlags(onnx, model, flags, common, data);
  // Check the written model the way a user would run it: same inputs, float vs quantized.
  // Weight-only and dynamic need no data: their check runs on typed synthetic samples.
  const checkData = data ?? loadModelData("random", inputs, { ...dataOptions, samples: flags.checkSamples });
  const checkBatches = await takeBatches(
    checkData.source as () => AsyncIterable<import("@zeropoint/core").CalibrationBatch>,
    inputs,
    flags.checkSamples,
  );
  const check = await onnx.checkQuantizedModel(model, result.model, checkBatches, result.report.activations ?? {});
  const written = onnx.saveModel(result.model, flags.output);
  const latency = flags.checkLatency ? await checkLatency(onnx, model, result.model, checkBatches) : undefined;
  const report = {
    input: flags.input,
    output: flags.output,
    approach: result.report.approach,
    format: result.report.format,
    data: data?.description ?? null,
    syntheticCalibration: data?.synthetic ?? false,
    sizes: {
      float: check.floatBytes,
      quantized: written.modelBytes + written.dataBytes,
      ratio: (written.modelBytes + written.dataBytes) / check.floatBytes,
    },
    quantizedNodes: result.report.quantizedNodes,
    floatNodes: result.report.floatNodes,
    check: {
      samples: check.samples,
      outputs: check.outputs,
      top1Agreement: check.top1Agreement ?? null,
      tensors: check.tensors,
    },
    quantizedByOp: countByOp(model, result.report.quantizedNodes),
    degraded: degradedReason(result.report, check.outputs, flags.minSqnr, checkData.synthetic) ?? null,
    ops: { float: check.floatOps, quantized: check.quantizedOps },
    target: result.report.target ?? null,
    latency: latency ?? null,
    mixed: mixedLayers ?? null,
    seconds: (performance.now() - started) / 1000,
  };
  if (!flags.json) printQuantize(report, result, check, flags, out);
  return report;
}

type Check = Awaited<ReturnType<Onnx["checkQuantizedModel"]>>;
interface QuantizeReport {
  sizes: { float: number; quantized: number; ratio: number };
  quantizedByOp: Record<string, number>;
  target: Result["report"]["target"] | null;
  latency: Awaited<ReturnType<typeof checkLatency>> | null;
  mixed: MixedLayers | null;
  seconds: number;
  degraded: string | null;
  syntheticCalibration: boolean;
}

/** The result table: size, nodes, each output's check, target kernel, speed, time. */
function resultRows(report: QuantizeReport, result: Result, check: Check): string[][] {
  const latency = report.latency ?? undefined;
  return [
    [
      "model size",
      `${bytes(report.sizes.float)} -> ${bytes(report.sizes.quantized)} (${report.sizes.ratio.toFixed(3)}x)`,
    ],
    ["quantized nodes", `${result.report.quantizedNodes.length}`],
    ["nodes left float", `${result.report.floatNodes.length}`],
    [
      "quantized by op",
      Object.entries(report.quantizedByOp)
        .map(([op, k]) => `${op} ${k}`)
        .join(", ") || "none",
    ],
    ...check.outputs.map((o) => [
      `output ${o.name}`,
      `SQNR ${db(o.sqnr)} dB, cosine ${o.cosine.toFixed(4)}${
        o.agreement === undefined
          ? ""
          : `, ${o.kind === "class-vector" ? "argmax" : "decision"} agreement ${(o.agreement * 100).toFixed(2)}% of ${o.agreementCount}`
      }`,
    ]),
    ["check samples", `${check.samples}`],
    ...(result.report.target !== undefined
      ? [["target CPU kernel", `${result.report.target.kernel}: ${result.report.target.reason}`]]
      : []),
    ...(latency !== undefined
      ? [
          [
            "speed vs float (here)",
            `${latency.speedup.toFixed(2)}x [${latency.low.toFixed(2)}, ${latency.high.toFixed(2)}] (${latency.runtime})`,
          ],
        ]
      : []),
    ["time", `${report.seconds.toFixed(1)} s`],
  ];
}

/** The report as text. */
function printQuantize(
  report: QuantizeReport,
  result: Result,
  check: Check,
  flags: QuantizeFlags,
  out: (line: string) => void,
): void {
  const latency = report.latency ?? undefined;
  const mixedLayers = report.mixed ?? undefined;
  out("");
  out(table(["result", "value"], resultRows(report, result, check)));
  if (check.tensors.length > 0) {
    out("");
    out("lowest per-tensor SQNR (quantized activations vs float):");
    const worst = [...check.tensors].sort((a, b) => a.sqnr - b.sqnr).slice(0, 5);
    out(
      table(
        ["tensor", "SQNR dB"],
        worst.map((t) => [t.name, db(t.sqnr)]),
      ),
    );
  }
  if (mixedLayers !== undefined) {
    out("");
    out("mixed precision, per MatMul (relative output error on the calibration data):");
    out(mixedLayerTable(mixedLayers));
  }
  const floatCompute = result.report.floatNodes.filter((n) => ["Conv", "MatMul", "Gemm"].includes(n.opType));
  if (floatCompute.length > 0) {
    out("");
    out("Conv/MatMul/Gemm left in float:");
    out(
      table(
        ["node", "op", "reason"],
        floatCompute.map((n) => [n.name, n.opType, n.reason]),
      ),
    );
  }
  out("");
  out(`wrote ${flags.output}`);
  if (latency !== undefined && latency.high < 1) {
    out(
      `warning: the output is slower than the float model on this machine (${latency.speedup.toFixed(2)}x, 95% interval ${latency.low.toFixed(2)}-${latency.high.toFixed(2)}); zeropoint tune searches the formats for a faster one`,
    );
  }
  if (report.syntheticCalibration)
    out("note: calibration used synthetic random data; ranges may not match real inputs");
  if (report.degraded !== null)
    out(`${flags.allowDegraded ? "warning" : "degraded"}: ${report.degraded} (exit 3 unless --allow-degraded)`);
}

/** Quantized nodes (named as in the float model) counted by op type. */
function countByOp(
  model: { graph?: { node: readonly { name?: string | null; opType?: string | null }[] } | null },
  names: readonly string[],
): Record<string, number> {
  const ops = new Map<string, string>();
  const visit = (g: {
    node: readonly { name?: string | null; opType?: string | null; attribute?: readonly unknown[] }[];
  }) => {
    for (const n of g.node) {
      ops.set(n.name ?? "", n.opType ?? "?");
      for (const a of (n.attribute ?? []) as { g?: typeof g | null; graphs?: (typeof g)[] | null }[])
        for (const sub of [...(a.g ? [a.g] : []), ...(a.graphs ?? [])]) visit(sub);
    }
  };
  if (model.graph) visit(model.graph);
  const counts: Record<string, number> = {};
  for (const name of names) {
    const op = ops.get(name) ?? "?";
    counts[op] = (counts[op] ?? 0) + 1;
  }
  return counts;
}

/**
 * Times the output against the float model on the check batch (at most 64 rows), interleaved, for
 * a few seconds: cheap enough to run by default, precise enough to say "slower than float".
 */
async function checkLatency(
  onnx: Awaited<ReturnType<typeof loadOnnxAdapter>>,
  float: Parameters<typeof onnx.encodeModel>[0],
  quantized: Parameters<typeof onnx.encodeModel>[0],
  batches: readonly import("@zeropoint/core").CalibrationBatch[],
): Promise<import("@zeropoint/onnx").MeasuredSpeedup | undefined> {
  const first = batches[0];
  if (first === undefined) return undefined;
  try {
    const [speed] = await onnx.measureSpeedups(onnx.encodeModel(float), [onnx.encodeModel(quantized)], first, {
      threads: 1,
      minRounds: 10,
      maxRounds: 200,
      targetHalfWidth: 0.03,
      budgetMs: 3_000,
    });
    return speed;
  } catch {
    // The model is written and checked already; timing is advisory (--no-check-latency skips it).
    return undefined;
  }
}

async function readPlan(path: string): Promise<string> {
  const { readFileSync } = await import("node:fs");
  try {
    return readFileSync(path, "utf8");
  } catch (cause) {
    throw new ZeropointError("io-error", `cannot read plan ${path}: ${(cause as Error).message}`, { cause });
  }
}
