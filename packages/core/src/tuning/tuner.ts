import { ZeropointError } from "../errors/zeropoint-error.js";
import { type AccuracyCriterion, describeCriterion, metricThreshold } from "./criterion.js";
import { type LatencyModel, planKey } from "./latency-model.js";

/** A node the tuner may put in int8. */
export interface TunableNode {
  readonly name: string;
  readonly opType: string;
}

/** What evaluating one plan gives. */
export interface PlanEvaluation {
  /** Accuracy with labels, or agreement/SQNR-based score without (higher is better). */
  readonly metric: number;
  readonly sizeBytes: number;
}

/**
 * What a framework adapter provides to the tuner (onnx implements it). Plans are sets of nodes to
 * run in int8; every other quantizable node stays float.
 */
export interface TuningAdapter {
  readonly specificationVersion: "v1";
  nodes(): Promise<readonly TunableNode[]>;
  floatMetric(): Promise<number>;
  floatSizeBytes(): Promise<number>;
  evaluate(int8Nodes: readonly string[]): Promise<PlanEvaluation>;
  /** Per-node output SQNR (dB) of a quantized model against float, for the sensitivity report. */
  nodeSqnr?(int8Nodes: readonly string[]): Promise<Readonly<Record<string, number>>>;
}

/** One evaluated plan. */
export interface Trial {
  readonly index: number;
  readonly label: string;
  readonly int8Nodes: readonly string[];
  readonly metric: number;
  readonly sizeBytes: number;
  readonly latencyMs: number;
  readonly passed: boolean;
  /** Taken from the history file instead of evaluated again. */
  readonly reused: boolean;
  /** Latency of the whole plan measured live in this run, when verified. */
  readonly measuredMs?: number;
  /** Latency of the whole plan as recorded in the profile (another run, maybe another machine). */
  readonly recordedMs?: number;
}

/** A history entry as stored (one JSON object per line). */
export interface HistoryEntry {
  readonly key: string;
  readonly label: string;
  readonly int8Nodes: readonly string[];
  readonly metric: number;
  readonly sizeBytes: number;
}

/** Where trials are recorded so a killed run can resume. */
export interface TuningHistory {
  load(): readonly HistoryEntry[];
  append(entry: HistoryEntry): void;
}

/** Sensitivity of one node. */
export interface NodeSensitivity {
  readonly name: string;
  readonly opType: string;
  /** Output SQNR (dB) of this node in the all-int8 model. */
  readonly sqnr?: number;
  /** Metric with only this node in int8. */
  readonly metricAlone?: number;
  /** Metric with every node but this one in int8. */
  readonly metricLeftFloat?: number;
  /** Metric lost by quantizing this node (float metric - metricAlone); higher is more sensitive. */
  readonly impact: number;
  /** Latency change of this node in int8 (ms; negative is faster). */
  readonly latencyDeltaMs: number;
}

/** Options of {@link tune}. */
export interface TuneOptions {
  readonly criterion: AccuracyCriterion;
  readonly latency: LatencyModel;
  /** What to minimise among plans that meet the criterion. Default `latency`. */
  readonly objective?: "latency" | "size" | "accuracy";
  /** `basic` (default) or `sensitivity`. */
  readonly strategy?: "basic" | "sensitivity";
  /** Keep float the nodes whose int8 form is not faster, when that still meets the criterion. Default true. */
  readonly latencyAware?: boolean;
  readonly maxTrials?: number;
  readonly timeoutMs?: number;
  readonly history?: TuningHistory;
  readonly onTrial?: (
    trial: Trial,
    total: { done: number; limit: number; best: Trial | undefined; elapsedMs: number },
  ) => void;
  /** Skip the per-node "quantize alone" sweep of the sensitivity report. */
  readonly skipSensitivity?: boolean;
  /**
   * Measures a plan's latency in the target runtime (median of >= 20 runs). When given, the final
   * candidates are verified by measurement wherever the latency model has no recorded value; the
   * measurements are reported so they can be added to the profile.
   */
  readonly measure?: (int8Nodes: readonly string[]) => Promise<number>;
  /** How many of the best-estimated passing plans to verify by measurement. Default 8. */
  readonly verifyCandidates?: number;
}

/** Outcome of a tuning run. */
export interface TuneResult {
  readonly status: "met" | "not-met";
  readonly message: string;
  /** The chosen plan (or, when nothing met the criterion, the best plan found). */
  readonly best: Trial | undefined;
  readonly trials: readonly Trial[];
  readonly float: { readonly metric: number; readonly latencyMs: number; readonly sizeBytes: number };
  readonly threshold: number;
  readonly stopReason: "exhausted" | "max-trials" | "timeout";
  readonly sensitivity: readonly NodeSensitivity[];
  /** Float latency measured live in this run to verify the choice, when measured. */
  readonly floatMeasuredMs?: number;
  /** Float latency read from the profile (not measured in this run), when that is all there was. */
  readonly floatRecordedMs?: number;
  /** Plan latencies measured during this run (key: planKey), to add to the profile. */
  readonly measurements: Readonly<Record<string, number>>;
  /** True when the chosen plan was verified by measurement and is still slower than float. */
  readonly slowerThanFloat: boolean;
}

const keyOf = (nodes: readonly string[]) => [...nodes].sort().join("\u0000");

/**
 * Searches per-node int8/float plans for the one that best meets the accuracy criterion under the
 * objective (fastest by default), unlike a loop that stops at the first passing plan. A plan must
 * keep at least one node in int8 and be smaller than the float model; returning the float model is
 * never a success. Same adapter results, profile and options give the same plan.
 */
export async function tune(adapter: TuningAdapter, options: TuneOptions): Promise<TuneResult> {
  if (adapter.specificationVersion !== "v1")
    throw new ZeropointError("invalid-argument", "unsupported tuning adapter version");
  const started = Date.now();
  const objective = options.objective ?? "latency";
  const latencyAware = options.latencyAware ?? true;
  const maxTrials = options.maxTrials ?? 100;
  const timeoutMs = options.timeoutMs ?? Number.POSITIVE_INFINITY;
  const nodes = await adapter.nodes();
  if (nodes.length === 0) throw new ZeropointError("invalid-model", "the model has no quantizable nodes to tune");
  const floatMetric = await adapter.floatMetric();
  const floatSize = await adapter.floatSizeBytes();
  const threshold = metricThreshold(options.criterion, floatMetric);
  const history = new Map<string, HistoryEntry>();
  for (const e of options.history?.load() ?? []) history.set(e.key, e);
  const trials: Trial[] = [];
  const seen = new Map<string, Trial>();
  let stopReason: TuneResult["stopReason"] = "exhausted";

  const isBetter = (a: Trial, b: Trial | undefined): boolean => {
    if (b === undefined) return true;
    // Measured latency beats the estimate; a verified plan beats an unverified one.
    const av = a.measuredMs ?? a.recordedMs;
    const bv = b.measuredMs ?? b.recordedMs;
    if (objective === "latency" && (av !== undefined || bv !== undefined)) {
      if (av === undefined) return false;
      if (bv === undefined) return true;
      if (av !== bv) return av < bv;
    }
    const primary =
      objective === "latency"
        ? b.latencyMs - a.latencyMs
        : objective === "size"
          ? b.sizeBytes - a.sizeBytes
          : a.metric - b.metric;
    if (Math.abs(primary) > 1e-9) return primary > 0;
    if (a.latencyMs !== b.latencyMs) return a.latencyMs < b.latencyMs;
    if (a.sizeBytes !== b.sizeBytes) return a.sizeBytes < b.sizeBytes;
    return a.metric > b.metric;
  };
  const valid = (t: Trial) => t.int8Nodes.length > 0 && t.sizeBytes < floatSize;
  const best = () => {
    let b: Trial | undefined;
    for (const t of trials) if (t.passed && valid(t) && isBetter(t, b)) b = t;
    return b;
  };
  const budgetLeft = () => {
    if (trials.length >= maxTrials) {
      stopReason = "max-trials";
      return false;
    }
    if (Date.now() - started > timeoutMs) {
      stopReason = "timeout";
      return false;
    }
    return true;
  };
  /** Evaluates a plan once (or takes it from history); returns undefined when the budget is spent. */
  const run = async (label: string, int8: readonly string[]): Promise<Trial | undefined> => {
    const ordered = nodes.map((n) => n.name).filter((n) => int8.includes(n));
    const key = keyOf(ordered);
    const existing = seen.get(key);
    if (existing) return existing;
    if (ordered.length === 0) return undefined;
    if (!budgetLeft()) return undefined;
    const recorded = history.get(key);
    const evaluation = recorded ?? (await adapter.evaluate(ordered));
    if (!recorded)
      options.history?.append({
        key,
        label,
        int8Nodes: ordered,
        metric: evaluation.metric,
        sizeBytes: evaluation.sizeBytes,
      });
    const trial: Trial = {
      index: trials.length + 1,
      label,
      int8Nodes: ordered,
      metric: evaluation.metric,
      sizeBytes: evaluation.sizeBytes,
      latencyMs: options.latency.estimate(new Set(ordered)),
      passed: evaluation.metric >= threshold,
      reused: recorded !== undefined,
    };
    trials.push(trial);
    seen.set(key, trial);
    options.onTrial?.(trial, { done: trials.length, limit: maxTrials, best: best(), elapsedMs: Date.now() - started });
    return trial;
  };
  const faster = (names: readonly string[]) => names.filter((n) => options.latency.delta(n) < 0);
  /** Latency-aware pruning: the same plan without nodes that are not faster in int8. */
  const prune = async (t: Trial | undefined) => {
    if (!latencyAware || t === undefined) return;
    const kept = faster(t.int8Nodes);
    if (kept.length > 0 && kept.length < t.int8Nodes.length) await run(`${t.label}, int8 only where faster`, kept);
  };

  const all = nodes.map((n) => n.name);
  const allInt8 = await run("all int8", all);
  await prune(allInt8);

  const sensitivity = new Map<string, { alone?: number; leftFloat?: number }>();
  if ((options.strategy ?? "basic") === "basic") {
    // Fall back whole op types, then single nodes, then accumulate fallbacks by measured gain.
    for (const op of [...new Set(nodes.map((n) => n.opType))]) {
      const t = await run(
        `${op} float`,
        all.filter((n) => nodes.find((x) => x.name === n)?.opType !== op),
      );
      await prune(t);
    }
    for (const n of all) {
      const t = await run(
        `${n} float`,
        all.filter((x) => x !== n),
      );
      if (t) sensitivity.set(n, { ...sensitivity.get(n), leftFloat: t.metric });
    }
    const gain = (n: string) => (sensitivity.get(n)?.leftFloat ?? Number.NEGATIVE_INFINITY) - (allInt8?.metric ?? 0);
    const order = [...all].sort((a, b) => gain(b) - gain(a) || all.indexOf(a) - all.indexOf(b));
    const fallen: string[] = [];
    for (const n of order.slice(0, -1)) {
      fallen.push(n);
      const t = await run(
        `${fallen.length} most sensitive float`,
        all.filter((x) => !fallen.includes(x)),
      );
      await prune(t);
      if (t?.passed) break;
    }
  }
  if (!options.skipSensitivity || options.strategy === "sensitivity") {
    for (const n of all) {
      const t = await run(`${n} alone int8`, [n]);
      if (t) sensitivity.set(n, { ...sensitivity.get(n), alone: t.metric });
    }
  }
  if (options.strategy === "sensitivity") {
    // Add nodes from least to most harmful while the criterion holds.
    const impact = (n: string) => floatMetric - (sensitivity.get(n)?.alone ?? Number.NEGATIVE_INFINITY);
    const order = [...all].sort((a, b) => impact(a) - impact(b) || all.indexOf(a) - all.indexOf(b));
    const chosen: string[] = [];
    for (const n of order) {
      const t = await run(`${chosen.length + 1} least sensitive int8`, [...chosen, n]);
      if (t === undefined) break;
      if (t.passed) chosen.push(n);
    }
    await prune(seen.get(keyOf(nodes.map((x) => x.name).filter((x) => chosen.includes(x)))));
  }
  if (latencyAware && objective === "latency") {
    // Per-node deltas rank nodes well but do not add up reliably; try the k most beneficial nodes.
    const beneficial = [...all]
      .filter((n) => options.latency.delta(n) < 0)
      .sort((a, b) => options.latency.delta(a) - options.latency.delta(b) || all.indexOf(a) - all.indexOf(b));
    for (let k = 1; k <= Math.min(beneficial.length, 8); k++)
      await run(`${k} most beneficial int8`, beneficial.slice(0, k));
  }
  // A last latency-aware pass over the best plan found.
  await prune(best());

  // Verify the best-estimated passing plans by measured/recorded latency.
  const measurements: Record<string, number> = {};
  // A live measurement (options.measure) always wins; a figure recorded in the profile is reported
  // as recorded, never as measured.
  const measured = async (int8: readonly string[]): Promise<{ ms: number; live: boolean } | undefined> => {
    if (options.measure !== undefined) {
      const ms = await options.measure(int8);
      measurements[planKey(int8)] = ms;
      return { ms, live: true };
    }
    const recorded = options.latency.recorded(int8);
    return recorded === undefined ? undefined : { ms: recorded, live: false };
  };
  let floatMeasuredMs: number | undefined;
  let floatRecordedMs: number | undefined;
  if (objective === "latency") {
    const candidates = trials
      .filter((t) => t.passed && valid(t))
      .sort((a, b) => a.latencyMs - b.latencyMs || a.index - b.index);
    const toVerify = candidates.slice(0, options.verifyCandidates ?? 8);
    if (toVerify.length > 0) {
      const f = await measured([]);
      if (f?.live) floatMeasuredMs = f.ms;
      else if (f !== undefined) floatRecordedMs = f.ms;
    }
    for (const t of toVerify) {
      const m = await measured(t.int8Nodes);
      if (m !== undefined) trials[t.index - 1] = { ...t, ...(m.live ? { measuredMs: m.ms } : { recordedMs: m.ms }) };
    }
  }

  const sqnr = adapter.nodeSqnr ? await adapter.nodeSqnr(all) : {};
  const report: NodeSensitivity[] = nodes
    .map((n) => {
      const s = sensitivity.get(n.name) ?? {};
      const impact =
        s.alone !== undefined
          ? floatMetric - s.alone
          : s.leftFloat !== undefined
            ? s.leftFloat - (allInt8?.metric ?? floatMetric)
            : 0;
      return {
        name: n.name,
        opType: n.opType,
        ...(sqnr[n.name] !== undefined ? { sqnr: sqnr[n.name] as number } : {}),
        ...(s.alone !== undefined ? { metricAlone: s.alone } : {}),
        ...(s.leftFloat !== undefined ? { metricLeftFloat: s.leftFloat } : {}),
        impact,
        latencyDeltaMs: options.latency.delta(n.name),
      };
    })
    .sort((a, b) => b.impact - a.impact || (a.sqnr ?? Number.POSITIVE_INFINITY) - (b.sqnr ?? Number.POSITIVE_INFINITY));
  const chosen = best();
  const floatInfo = { metric: floatMetric, latencyMs: options.latency.floatMs, sizeBytes: floatSize };
  if (chosen) {
    return {
      status: "met",
      message: `met ${describeCriterion(options.criterion)} (metric ${chosen.metric.toFixed(4)} >= ${threshold.toFixed(4)}) with ${chosen.int8Nodes.length}/${nodes.length} nodes in int8, ${
        chosen.measuredMs !== undefined && floatMeasuredMs !== undefined
          ? `measured ${chosen.measuredMs.toFixed(3)} ms vs float ${floatMeasuredMs.toFixed(3)} ms`
          : chosen.recordedMs !== undefined && floatRecordedMs !== undefined
            ? `recorded (not measured in this run) ${chosen.recordedMs.toFixed(3)} ms vs float ${floatRecordedMs.toFixed(3)} ms`
            : `estimated ${chosen.latencyMs.toFixed(3)} ms vs float ${options.latency.floatMs.toFixed(3)} ms`
      }`,
      best: chosen,
      trials,
      float: floatInfo,
      threshold,
      stopReason,
      sensitivity: report,
      ...(floatMeasuredMs !== undefined ? { floatMeasuredMs } : {}),
      ...(floatRecordedMs !== undefined ? { floatRecordedMs } : {}),
      measurements,
      slowerThanFloat:
        chosen.measuredMs !== undefined && floatMeasuredMs !== undefined
          ? chosen.measuredMs > floatMeasuredMs
          : chosen.recordedMs !== undefined && floatRecordedMs !== undefined && chosen.recordedMs > floatRecordedMs,
    };
  }
  let closest: Trial | undefined;
  for (const t of trials) if (valid(t) && (closest === undefined || t.metric > closest.metric)) closest = t;
  return {
    status: "not-met",
    message: `no plan with at least one int8 node met ${describeCriterion(options.criterion)} (needed metric >= ${threshold.toFixed(4)}; best found ${closest ? closest.metric.toFixed(4) : "none"} after ${trials.length} trials, stopped: ${stopReason})`,
    best: closest,
    trials,
    float: floatInfo,
    threshold,
    stopReason,
    sensitivity: report,
    measurements,
    slowerThanFloat: false,
  };
}
