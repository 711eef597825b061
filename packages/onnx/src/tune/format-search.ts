import { type AccuracyCriterion, metricThreshold, type Recipe, type TargetCpu } from "@zeropoint/core";
import type { CalibrationBatch, CalibrationSource } from "../calibration/calibration-source.js";
import { encodeModel } from "../model/model-io.js";
import type { OnnxModel } from "../model/onnx-schema.js";
import { quantizeDynamic } from "../quantize/quantize-dynamic.js";
import { quantizeStatic } from "../quantize/quantize-static.js";
import { quantizeWeightOnly } from "../quantize/quantize-weight-only.js";
import type { TargetDecision } from "../target/saturation-policy.js";
import { type MeasuredSpeedup, type MeasureSpeedupOptions, measureSpeedups } from "./measure-latency.js";

/** The approach × format candidates the search builds; `per-node` is the tuned static plan. */
export const FORMAT_CANDIDATES = [
  "static-qdq-per-node",
  "static-qdq",
  "static-qoperator",
  "dynamic",
  "dynamic-matmul",
  "weight-only-int8",
] as const;
/** One of {@link FORMAT_CANDIDATES}. */
export type FormatCandidateId = (typeof FORMAT_CANDIDATES)[number];

const DESCRIPTIONS: Record<FormatCandidateId, string> = {
  "static-qdq-per-node": "static QDQ, tuned per-node plan",
  "static-qdq": "static QDQ, every node int8",
  "static-qoperator": "static QOperator, every node int8",
  dynamic: "dynamic (MatMul, Gemm, Conv, Gather)",
  "dynamic-matmul": "dynamic MatMul/Gemm only (Conv stays float)",
  "weight-only-int8": "weight-only int8 (dequantized at run time)",
};

/** A candidate's outcome: its metric, whether it meets the criterion, and its live speed. */
export interface FormatCandidateResult {
  readonly id: FormatCandidateId;
  readonly description: string;
  readonly approach: "static" | "dynamic" | "weight-only";
  readonly metric: number;
  readonly passed: boolean;
  readonly sizeBytes: number;
  /** Measured here against the float model (only for candidates that meet the criterion). */
  readonly speed?: MeasuredSpeedup;
  /** Why it was not built, when it could not be. */
  readonly error?: string;
  readonly target?: TargetDecision;
}

/** Options of {@link searchFormats}. */
export interface FormatSearchOptions {
  readonly calibrationData: CalibrationSource;
  /** Scores a model on the evaluation data (same scorer as the per-node tuner). */
  readonly score: (bytes: Uint8Array) => Promise<number>;
  readonly floatMetric: number;
  readonly criterion: AccuracyCriterion;
  /** The batch timed (e.g. 64 samples). */
  readonly latencyBatch: CalibrationBatch;
  readonly targetCpu?: TargetCpu;
  /** The per-node tuner's best static plan, when it found one. */
  readonly perNodePlan?: Recipe;
  readonly perChannel?: boolean;
  readonly measure?: MeasureSpeedupOptions;
  /** `latency` (default): fastest; `size`: smallest; `accuracy`: best metric — among passing candidates not slower than float. */
  readonly objective?: "latency" | "size" | "accuracy";
  readonly onProgress?: (line: string) => void;
}

/** What {@link searchFormats} found. */
export interface FormatSearchResult {
  readonly candidates: readonly FormatCandidateResult[];
  /** The fastest candidate that meets the criterion and is not slower than float, if any. */
  readonly chosen?: FormatCandidateResult & { readonly model: OnnxModel };
  readonly threshold: number;
}

/**
 * Searches approach × format for the fastest model that meets the accuracy criterion, measured
 * live on this machine: static QDQ (the per-node tuned plan and every-node-int8), static QOperator,
 * dynamic (with and without Conv: ConvInteger has no fused kernel in onnxruntime and is often slower
 * than float) and weight-only int8. Every passing candidate is timed against the float model in the
 * same interleaved rounds (see `measureSpeedups`), and a candidate whose measured speedup is below 1
 * is never chosen: when nothing is faster than float, nothing is chosen.
 */
export async function searchFormats(model: OnnxModel, options: FormatSearchOptions): Promise<FormatSearchResult> {
  const say = options.onProgress ?? (() => {});
  const threshold = metricThreshold(options.criterion, options.floatMetric);
  const perChannel = options.perChannel ?? true;
  const common = {
    perChannel,
    ...(options.targetCpu !== undefined ? { targetCpu: options.targetCpu } : {}),
  };
  const builders: [
    FormatCandidateId,
    "static" | "dynamic" | "weight-only",
    () => Promise<{
      model: OnnxModel;
      report: { target?: TargetDecision };
    }>,
  ][] = [];
  if (options.perNodePlan !== undefined) {
    const plan = options.perNodePlan;
    builders.push([
      "static-qdq-per-node",
      "static",
      () => quantizeStatic(model, { ...common, calibrationData: options.calibrationData, plan }),
    ]);
  }
  builders.push(
    ["static-qdq", "static", () => quantizeStatic(model, { ...common, calibrationData: options.calibrationData })],
    [
      "static-qoperator",
      "static",
      () => quantizeStatic(model, { ...common, calibrationData: options.calibrationData, format: "qoperator" }),
    ],
    ["dynamic", "dynamic", () => quantizeDynamic(model, common)],
    ["dynamic-matmul", "dynamic", () => quantizeDynamic(model, { ...common, opTypes: ["MatMul", "Gemm"] })],
    ["weight-only-int8", "weight-only", () => quantizeWeightOnly(model, { perChannel })],
  );
  const built: { result: FormatCandidateResult; model?: OnnxModel; bytes?: Uint8Array }[] = [];
  for (const [id, approach, build] of builders) {
    try {
      const { model: quantized, report } = await build();
      const bytes = encodeModel(quantized);
      const metric = await options.score(bytes);
      const result: FormatCandidateResult = {
        id,
        description: DESCRIPTIONS[id],
        approach,
        metric,
        passed: metric >= threshold,
        sizeBytes: bytes.length,
        ...(report.target !== undefined ? { target: report.target } : {}),
      };
      say(
        `  ${DESCRIPTIONS[id]}: metric ${metric.toFixed(4)} ${result.passed ? "meets" : "misses"} ${threshold.toFixed(4)}`,
      );
      built.push({ result, model: quantized, bytes });
    } catch (e) {
      const error = (e as Error).message;
      say(`  ${DESCRIPTIONS[id]}: not built (${error})`);
      built.push({
        result: { id, description: DESCRIPTIONS[id], approach, metric: 0, passed: false, sizeBytes: 0, error },
      });
    }
  }
  const passing = built.filter((b) => b.result.passed && b.bytes !== undefined);
  if (passing.length > 0) {
    say(`  timing ${passing.length} passing candidate(s) against float, interleaved, until ±3% ...`);
    const speeds = await measureSpeedups(
      encodeModel(model),
      passing.map((b) => b.bytes as Uint8Array),
      options.latencyBatch,
      options.measure,
    );
    passing.forEach((b, i) => {
      b.result = { ...b.result, speed: speeds[i] as MeasuredSpeedup };
    });
  }
  const objective = options.objective ?? "latency";
  const better = (a: FormatCandidateResult, b: FormatCandidateResult): boolean => {
    if (objective === "size" && a.sizeBytes !== b.sizeBytes) return a.sizeBytes < b.sizeBytes;
    if (objective === "accuracy" && a.metric !== b.metric) return a.metric > b.metric;
    return (a.speed as MeasuredSpeedup).speedup > (b.speed as MeasuredSpeedup).speedup;
  };
  let chosen: (typeof built)[number] | undefined;
  for (const b of passing) {
    // Never slower than float, whatever the objective.
    if ((b.result.speed as MeasuredSpeedup).speedup < 1) continue;
    if (chosen === undefined || better(b.result, chosen.result)) chosen = b;
  }
  return {
    candidates: built.map((b) => b.result),
    ...(chosen !== undefined ? { chosen: { ...chosen.result, model: chosen.model as OnnxModel } } : {}),
    threshold,
  };
}
