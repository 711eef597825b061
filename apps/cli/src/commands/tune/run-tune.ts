import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { CalibrationBatch } from "@zeropoint/core";
import {
  additiveLatencyModel,
  defaultRecipe,
  type LatencyProfile,
  type ModelInputSpec,
  parseCriterion,
  recipeToJSON,
  type TargetCpu,
  type TensorRecord,
  tune,
  ZeropointError,
} from "@zeropoint/core";
import { loadOnnxAdapter, modelKind, onnxOnly } from "../../adapters.js";
import { writeFileAtomic } from "../../atomic-write.js";
import { loadMnist } from "../../data/calibration-data.js";
import { parseInputValues } from "../../data/input-values.js";
import { loadModelData, type ModelDataOptions } from "../../data/model-data.js";
import { UsageError } from "../../errors.js";
import { assertOutputsSafe } from "../../output-guard.js";
import { table } from "../../report.js";
import { sensitivityHtml } from "../../sensitivity-html.js";
import { historyDigest, openHistory } from "../../tune-history.js";

/** Parsed flags of `zeropoint tune`. */
export interface TuneFlags {
  readonly input: string;
  readonly output: string;
  readonly calibData: string;
  readonly evalData: string;
  readonly holdoutData: string | undefined;
  readonly maxLoss: string;
  readonly objective: "latency" | "size" | "accuracy";
  readonly strategy: "basic" | "sensitivity";
  readonly maxTrials: number;
  readonly timeoutMs: number;
  readonly history: string | undefined;
  readonly latencyProfile: string | undefined;
  readonly latencyBudgetMs: number;
  readonly samples: number;
  readonly report: string | undefined;
  readonly targetCpu: TargetCpu;
  /** `--input-shape`, `--input`, `--vocab-size`, `--batch-size`: as for quantize. */
  readonly inputShapes: Record<string, number[]>;
  readonly inputValues: readonly string[];
  readonly vocabSize: number | undefined;
  readonly batchSize: number;
  /** Evaluation samples at most (a `random` or directory source has no natural end). */
  readonly evalSamples: number;
  readonly json: boolean;
}

/** Parses `10m`, `90s`, `2h` or plain seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new UsageError(`expected a duration like 90s or 10m, got ${text}`);
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? "s") as "ms" | "s" | "m" | "h"];
  return Number(m[1]) * factor;
}

async function collect(
  source: () => AsyncIterable<CalibrationBatch> | Iterable<CalibrationBatch>,
): Promise<CalibrationBatch[]> {
  const out: CalibrationBatch[] = [];
  for await (const b of source() as AsyncIterable<CalibrationBatch>) out.push(b);
  return out;
}

export function evaluationData(
  spec: string,
  inputs: readonly ModelInputSpec[],
  options: Omit<ModelDataOptions, "samples">,
  limit: number,
): Promise<{ batches: CalibrationBatch[]; labels?: Uint8Array; description: string }> {
  if (spec.startsWith("mnist")) {
    const split = spec.split(":")[1] ?? "test";
    const mnist = loadMnist(split as "test");
    const count = Math.min(limit, mnist.count);
    const data = loadModelData(spec, inputs, { ...options, samples: count });
    return collect(data.source).then((batches) => ({
      batches,
      labels: mnist.labels.subarray(0, count),
      description: `${data.description} (accuracy)`,
    }));
  }
  // Bounded: `random` would otherwise generate samples until memory runs out.
  const data = loadModelData(spec, inputs, { ...options, samples: limit });
  return collect(data.source).then((batches) => ({
    batches,
    description: `${data.description} (no labels: top-1 agreement with float)`,
  }));
}

/**
 * The data of a tune run, shared by `tune` and `tune --bits`: the calibration source and the
 * bounded evaluation set (batches of 256), read with the input flags quantize takes.
 */
export async function tuneData(
  flags: Pick<
    TuneFlags,
    "calibData" | "evalData" | "samples" | "inputShapes" | "inputValues" | "vocabSize" | "batchSize" | "evalSamples"
  >,
  inputs: readonly ModelInputSpec[],
) {
  const constants: TensorRecord = parseInputValues(flags.inputValues, inputs);
  const dataOptions = {
    batchSize: flags.batchSize,
    inputShapes: flags.inputShapes,
    constants,
    ...(flags.vocabSize !== undefined ? { vocabSize: flags.vocabSize } : {}),
  };
  const calibration = loadModelData(flags.calibData, inputs, { ...dataOptions, samples: flags.samples });
  const evaluation = await evaluationData(
    flags.evalData,
    inputs,
    { ...dataOptions, batchSize: 256 },
    flags.evalSamples,
  );
  return { dataOptions, calibration, evaluation };
}

type Onnx = Awaited<ReturnType<typeof loadOnnxAdapter>>;
type Model = ReturnType<Onnx["loadModel"]>["model"];
type TuningAdapter = Awaited<ReturnType<Onnx["createOnnxTuningAdapter"]>>;
type TuneResult = Awaited<ReturnType<typeof tune>>;
type Search = Awaited<ReturnType<Onnx["searchFormats"]>>;

/** Every file tune writes is checked against what it reads (after symlinks). */
function checkTuneOutputs(onnx: Onnx, flags: TuneFlags): void {
  const outDir = dirname(resolve(flags.output));
  if (!existsSync(outDir) || !statSync(outDir).isDirectory())
    throw new ZeropointError("io-error", `cannot write ${flags.output}: ${outDir} is not a directory`);
  // Every file tune writes is checked against what it reads (after symlinks): the model, its
  // external data, the plan, the report and the history.
  assertOutputsSafe(
    [flags.input, ...onnx.externalDataFiles(flags.input)],
    [
      { flag: "-o", path: flags.output },
      { flag: "-o (external data)", path: `${flags.output}.data` },
      { flag: "-o (plan)", path: `${flags.output}.plan.json` },
      { flag: "--report", path: flags.report ?? `${flags.output}.sensitivity.html` },
      ...(flags.history !== undefined ? [{ flag: "--history", path: flags.history }] : []),
    ],
  );
}

/** Latency is timed on at most 64 rows (axis 0) of the first evaluation batch. */
function latencyBatchOf(onnx: Onnx, batches: readonly CalibrationBatch[]): CalibrationBatch {
  const latencyBatch = (batches[0] ?? {}) as CalibrationBatch;
  return Object.fromEntries(
    Object.entries(latencyBatch).map(([name, raw]) => {
      const t = onnx.asNamedTensor(raw);
      const rows = Math.min(64, t.dims[0] ?? 1);
      const per = t.data.length / Math.max(1, t.dims[0] ?? 1);
      const data = (t.data as Float32Array).subarray(0, rows * per);
      return [name, { ...t, data, dims: [rows, ...t.dims.slice(1)] } as typeof t];
    }),
  );
}

/** The trial history (`--history`), keyed by model, settings and data so a rerun resumes only the same search. */
function tuneHistory(flags: TuneFlags, onnx: Onnx, model: Model, say: (line: string) => void) {
  const history =
    flags.history === undefined
      ? undefined
      : openHistory(
          flags.history,
          historyDigest({
            model: onnx.encodeModel(model),
            settings: {
              maxLoss: flags.maxLoss,
              objective: flags.objective,
              strategy: flags.strategy,
              samples: flags.samples,
              targetCpu: flags.targetCpu,
              recipe: "static-default",
            },
            data: [flags.calibData, flags.evalData],
          }),
        );
  if (history?.dropped) say(`  ${flags.history}: dropped a torn last line (an interrupted write)`);
  if ((history?.entries.length ?? 0) > 0)
    say(`  resuming: ${history?.entries.length} trials already in ${flags.history}`);
  return history;
}

/** The per-node static search (core's tuner), trials reported as they run. */
async function perNodeSearch(
  flags: TuneFlags,
  adapter: TuningAdapter,
  profile: Awaited<ReturnType<typeof latencyProfileFor>>,
  history: ReturnType<typeof tuneHistory>,
  say: (line: string) => void,
): Promise<TuneResult> {
  const criterion = parseCriterion(flags.maxLoss);
  return tune(adapter, {
    criterion,
    latency: additiveLatencyModel(profile),
    objective: flags.objective,
    strategy: flags.strategy,
    maxTrials: flags.maxTrials,
    timeoutMs: flags.timeoutMs,
    ...(history !== undefined ? { history: { load: () => history.entries, append: history.append } } : {}),
    // No per-plan timing here: the per-node search ranks plans by its latency model (repeatable for a
    // given profile), and its best plan is then timed live against float and every other format,
    // interleaved until the interval is ±3% (searchFormats). Only those figures are called measured.
    onTrial: (t, total) =>
      say(
        `  trial ${total.done}/${total.limit}: ${t.label} — metric ${t.metric.toFixed(4)} ${t.passed ? "pass" : "fail"}, est ${t.latencyMs.toFixed(3)} ms${t.reused ? " (from history)" : ""} | best ${total.best ? `${total.best.int8Nodes.length} int8, ${total.best.latencyMs.toFixed(3)} ms` : "none yet"} | ${(total.elapsedMs / 1000).toFixed(1)} s`,
      ),
  });
}

/** Writes the chosen model and its plan; scores it on the holdout data when there is one. */
async function writeChosen(
  onnx: Onnx,
  flags: TuneFlags,
  model: Model,
  chosen: NonNullable<Search["chosen"]>,
  context: {
    adapter: TuningAdapter;
    best: TuneResult["best"];
    inputs: Parameters<typeof tuneData>[1];
    dataOptions: Awaited<ReturnType<typeof tuneData>>["dataOptions"];
    calibration: Awaited<ReturnType<typeof tuneData>>["calibration"];
  },
): Promise<{ float: number; tuned: number; spec: string } | undefined> {
  const { adapter, best, inputs, dataOptions, calibration } = context;
  const holdoutSpec = flags.holdoutData ?? (flags.evalData === "mnist:test-even" ? "mnist:test-odd" : undefined);
  const quantized = chosen.model;
  onnx.saveModel(quantized, flags.output);
  writeFileAtomic(`${flags.output}.plan.json`, recipeToJSON(planForChoice(chosen, adapter, best?.int8Nodes ?? [])));
  if (holdoutSpec === undefined) return undefined;
  const data = await evaluationData(holdoutSpec, inputs, { ...dataOptions, batchSize: 256 }, flags.evalSamples);
  // One scorer built on the float model scores any candidate (a dynamic or QOperator model has
  // no float node left to tune, so it cannot be the scorer's own model).
  const scorer = await onnx.createOnnxTuningAdapter(model, { calibrationData: calibration.source, evaluation: data });
  return {
    spec: holdoutSpec,
    float: await scorer.floatMetric(),
    tuned: await scorer.score(onnx.encodeModel(quantized)),
  };
}

/** Runs `zeropoint tune`: returns the JSON-able report. */
export async function runTune(flags: TuneFlags, out: (line: string) => void): Promise<Record<string, unknown>> {
  const started = Date.now();
  if ((await modelKind(flags.input)) === "tfjs") onnxOnly("tune");
  const onnx = await loadOnnxAdapter();
  checkTuneOutputs(onnx, flags);
  const criterion = parseCriterion(flags.maxLoss);
  const { model } = onnx.loadModel(flags.input);
  const inputs = onnx.modelInputSpecs(model);
  const { dataOptions, calibration, evaluation } = await tuneData(flags, inputs);
  const say = (line: string) => {
    if (!flags.json) out(line);
  };
  say(`zeropoint tune ${flags.input} -> ${flags.output}`);
  say(
    `  criterion ${flags.maxLoss}, objective ${flags.objective}, strategy ${flags.strategy}; calibration: ${calibration.description}; tuning on ${evaluation.description}`,
  );
  const adapter = await onnx.createOnnxTuningAdapter(model, { calibrationData: calibration.source, evaluation });
  const batch64 = latencyBatchOf(onnx, evaluation.batches);
  const target = await onnx.resolveCpuTarget(flags.targetCpu);
  say(`  target CPU: ${target.kernel} (${target.label})`);
  const profile = await latencyProfileFor(flags, onnx, model, adapter, batch64, say);
  const result = await perNodeSearch(flags, adapter, profile, tuneHistory(flags, onnx, model, say), say);
  const best = result.best;
  // The nodes the per-node plan keeps in float (all of them when no plan met the criterion).
  const floatNodes = (await adapter.nodes()).map((n) => n.name).filter((n) => !best?.int8Nodes.includes(n));
  // Approach × format: the per-node plan competes with every other format, all timed live here.
  say("  approach x format search (live, interleaved with float):");
  const search = await onnx.searchFormats(model, {
    calibrationData: calibration.source,
    score: (bytes) => adapter.score(bytes),
    floatMetric: result.float.metric,
    criterion,
    latencyBatch: batch64,
    targetCpu: flags.targetCpu,
    ...(result.status === "met" && best !== undefined ? { perNodePlan: adapter.planFor(best.int8Nodes) } : {}),
    measure: { threads: 1, budgetMs: flags.latencyBudgetMs, targetHalfWidth: 0.03 },
    objective: flags.objective,
    onProgress: say,
  });
  const chosen = search.chosen;
  const holdout =
    chosen === undefined
      ? undefined
      : await writeChosen(onnx, flags, model, chosen, { adapter, best, inputs, dataOptions, calibration });
  const reportPath = flags.report ?? `${flags.output}.sensitivity.html`;
  writeFileAtomic(reportPath, sensitivityHtml(`zeropoint tune: ${flags.input}`, result, floatNodes));
  const status = chosen !== undefined ? "met" : "not-met";
  const message =
    chosen !== undefined
      ? `chose ${chosen.description}: metric ${chosen.metric.toFixed(4)} (needs ${search.threshold.toFixed(4)}), ${speedText(chosen.speed)} float, measured here`
      : search.candidates.some((c) => c.passed)
        ? "no candidate that meets the criterion ran at least as fast as float here; no model written"
        : result.message;
  const report = {
    status,
    message,
    perNode: { status: result.status, message: result.message },
    target: { kernel: target.kernel, u8s8Saturates: target.u8s8Saturates, requested: target.requested },
    formats: search.candidates,
    chosen: chosen === undefined ? null : { id: chosen.id, description: chosen.description, speed: chosen.speed },
    criterion: flags.maxLoss,
    float: { ...result.float, measuredMs: result.floatMeasuredMs ?? null },
    best: best ?? null,
    floatNodes,
    holdout: holdout ?? null,
    trials: result.trials,
    sensitivity: result.sensitivity,
    stopReason: result.stopReason,
    slowerThanFloat: result.slowerThanFloat,
    files:
      chosen === undefined
        ? { report: reportPath }
        : { model: flags.output, plan: `${flags.output}.plan.json`, report: reportPath },
    seconds: (Date.now() - started) / 1000,
  };
  if (!flags.json) printTune(report, result, search, flags, out);
  return report;
}

/** The trials, the format candidates, and what was written. */
function printTune(
  report: {
    message: string;
    floatNodes: string[];
    holdout: { float: number; tuned: number; spec: string } | null;
    files: { report: string };
  },
  result: TuneResult,
  search: Search,
  flags: Pick<TuneFlags, "output">,
  out: (line: string) => void,
): void {
  const { message, floatNodes } = report;
  const holdout = report.holdout ?? undefined;
  const chosen = search.chosen;
  const reportPath = report.files.report;
  out("");
  out(
    table(
      ["#", "plan", "int8", "metric", "pass", "est ms", "measured ms"],
      result.trials.map((t) => [
        t.index,
        t.label,
        t.int8Nodes.length,
        t.metric.toFixed(4),
        t.passed ? "yes" : "no",
        t.latencyMs.toFixed(3),
        t.measuredMs?.toFixed(3) ?? "",
      ]),
    ),
  );
  out("");
  out(`per-node static plan: ${result.message}`);
  out("");
  out(
    table(
      ["candidate", "metric", "meets", "size", "speed vs float (95% CI)", "rounds"],
      search.candidates.map((c) => [
        c.description,
        c.error === undefined ? c.metric.toFixed(4) : "—",
        c.error === undefined ? (c.passed ? "yes" : "no") : `not built: ${c.error}`,
        c.sizeBytes > 0 ? `${(c.sizeBytes / 1024).toFixed(0)} KiB` : "",
        c.speed === undefined ? "" : speedText(c.speed),
        c.speed === undefined ? "" : `${c.speed.rounds}${c.speed.converged ? "" : " (budget out)"}`,
      ]),
    ),
  );
  out("");
  out(message);
  if (chosen !== undefined) {
    if (chosen.id === "static-qdq-per-node")
      out(`kept float: ${floatNodes.length === 0 ? "none" : floatNodes.join(", ")}`);
    if (holdout) out(`holdout ${holdout.spec}: float ${holdout.float.toFixed(4)}, tuned ${holdout.tuned.toFixed(4)}`);
    out(
      `wrote ${flags.output}, ${flags.output}.plan.json (re-apply with zeropoint quantize --approach ${chosen.approach} --plan), ${reportPath}`,
    );
  } else out(`no model written; report ${reportPath}`);
}

function speedText(speed: import("@zeropoint/onnx").MeasuredSpeedup | undefined): string {
  if (speed === undefined) return "not timed";
  return `${speed.speedup.toFixed(2)}x [${speed.low.toFixed(2)}, ${speed.high.toFixed(2)}]`;
}

/** The plan `zeropoint quantize --plan` re-applies for the chosen candidate. */
function planForChoice(
  chosen: Pick<import("@zeropoint/onnx").FormatCandidateResult, "id" | "approach">,
  adapter: { planFor(int8: readonly string[]): import("@zeropoint/core").Recipe },
  perNodeInt8: readonly string[],
): import("@zeropoint/core").Recipe {
  if (chosen.id === "static-qdq-per-node") return adapter.planFor(perNodeInt8);
  // The search builds every format with per-channel weights; the plan says so explicitly.
  const defaults = defaultRecipe(chosen.approach);
  const base = { ...defaults, weight: { ...defaults.weight, granularity: "per-channel" as const } };
  return chosen.id === "dynamic-matmul" ? { ...base, overrides: { opTypes: { Conv: { keepFloat: true } } } } : base;
}

/**
 * The latency model that seeds the per-node search: a recorded profile only when it was measured
 * on this CPU model with this onnxruntime version (latencies from another machine are not this
 * machine's), else measured here. Either way, every latency the tune reports is measured live.
 */
async function latencyProfileFor(
  flags: TuneFlags,
  onnx: Awaited<ReturnType<typeof loadOnnxAdapter>>,
  model: Parameters<Awaited<ReturnType<typeof loadOnnxAdapter>>["modelDigest"]>[0],
  adapter: Parameters<Awaited<ReturnType<typeof loadOnnxAdapter>>["measureLatencyProfile"]>[1],
  batch: CalibrationBatch,
  say: (line: string) => void,
): Promise<LatencyProfile> {
  if (flags.latencyProfile !== undefined) {
    const profile = JSON.parse(readFileSync(flags.latencyProfile, "utf8")) as LatencyProfile;
    const cpu = onnx.readCpuFeatures().model;
    const ort = (await onnx.resolveCpuTarget("auto")).onnxruntimeVersion;
    const sameModel = profile.model === onnx.modelDigest(model);
    if (sameModel && profile.cpu === cpu && profile.onnxruntime === ort) {
      say(`  latency seed: recorded profile ${flags.latencyProfile} (${profile.runtime}, same CPU and onnxruntime)`);
      return profile;
    }
    say(
      `  latency seed: ${flags.latencyProfile} not used (${sameModel ? `recorded on ${profile.cpu ?? "an unnamed CPU"} with onnxruntime ${profile.onnxruntime ?? "unknown"}, this is ${cpu} with ${ort}` : "recorded for another model"}); measuring here`,
    );
  }
  say("  latency seed: measuring each node in int8 (batch 64, one thread, median of 20 runs)...");
  return onnx.measureLatencyProfile(model, adapter, { batch, runs: 20, threads: 1 });
}
