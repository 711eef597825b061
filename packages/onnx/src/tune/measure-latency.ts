import { type LatencyRatio, latencyRatio, ZeropointError } from "@zeropoint/core";
import type { CalibrationBatch } from "../calibration/calibration-source.js";
import { batchToFeeds } from "../calibration/calibration-source.js";
import { loadOnnxruntime, type OrtModule } from "../runtime/onnxruntime.js";

/** Options of {@link measureSpeedups}. */
export interface MeasureSpeedupOptions {
  /** Intra-op threads (default 1: the figure users compare is single-threaded). */
  readonly threads?: number;
  /** Rounds before the interval is looked at (default 10). */
  readonly minRounds?: number;
  /** Upper bound on rounds (default 5000; the budget usually ends a run first). */
  readonly maxRounds?: number;
  /** Stop once every candidate's interval is within ± this (default 0.03). */
  readonly targetHalfWidth?: number;
  /** Wall-clock budget in ms (default 60 s); when spent, the result says it did not converge. */
  readonly budgetMs?: number;
}

/** One candidate's measured speed against the baseline. */
export interface MeasuredSpeedup extends LatencyRatio {
  /** False when the budget or round limit ran out before the interval reached the target. */
  readonly converged: boolean;
  /** Where and how it was measured, e.g. `onnxruntime-node 1.30.0, cpu, 1 thread, batch 64, 37 interleaved rounds`. */
  readonly runtime: string;
}

type Session = Awaited<ReturnType<OrtModule["InferenceSession"]["create"]>>;

function feedsFor(ort: OrtModule, batch: CalibrationBatch): Record<string, InstanceType<OrtModule["Tensor"]>> {
  return batchToFeeds(ort, batch);
}

async function timeOnce(session: Session, feeds: Record<string, unknown>): Promise<number> {
  const start = performance.now();
  await session.run(feeds as never);
  return performance.now() - start;
}

/**
 * Measures how much faster each candidate model runs than the baseline, live, in onnxruntime-node:
 * interleaved rounds (baseline, then every candidate, in an order that rotates each round so no
 * model always runs right after another), until every speedup's 95% interval is within
 * `targetHalfWidth` or the budget runs out. Never reads a recorded figure.
 */
export async function measureSpeedups(
  baseline: Uint8Array,
  candidates: readonly Uint8Array[],
  batch: CalibrationBatch,
  options: MeasureSpeedupOptions = {},
): Promise<MeasuredSpeedup[]> {
  const ort = await loadOnnxruntime();
  const threads = options.threads ?? 1;
  const minRounds = Math.max(2, options.minRounds ?? 10);
  const maxRounds = Math.max(minRounds, options.maxRounds ?? 5000);
  const target = options.targetHalfWidth ?? 0.03;
  const budget = options.budgetMs ?? 60_000;
  const sessionOptions = {
    executionProviders: ["cpu"],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
  };
  const sessions: Session[] = [];
  try {
    for (const bytes of [baseline, ...candidates]) {
      try {
        sessions.push(await ort.InferenceSession.create(bytes, sessionOptions));
      } catch (cause) {
        throw new ZeropointError("invalid-model", "onnxruntime could not load a model to time", { cause });
      }
    }
    const feeds = feedsFor(ort, batch);
    // Warm-up: first runs allocate arenas and pack weights.
    for (const s of sessions) for (let i = 0; i < 3; i++) await timeOnce(s, feeds);
    const times: number[][] = sessions.map(() => []);
    const started = performance.now();
    let rounds = 0;
    let converged = false;
    while (rounds < maxRounds) {
      for (let j = 0; j < sessions.length; j++) {
        const which = (rounds + j) % sessions.length;
        (times[which] as number[]).push(await timeOnce(sessions[which] as Session, feeds));
      }
      rounds++;
      if (rounds >= minRounds) {
        converged = candidates.every(
          (_, c) => latencyRatio(times[0] as number[], times[c + 1] as number[]).relativeHalfWidth <= target,
        );
        if (converged || performance.now() - started > budget) break;
      }
    }
    const rows = Object.values(batch)[0]?.dims[0] ?? 1;
    const runtime = `onnxruntime-node ${ort.env.versions?.common ?? ""}, cpu, ${threads} thread${threads === 1 ? "" : "s"}, batch ${rows}, ${rounds} interleaved rounds`;
    return candidates.map((_, c) => ({
      ...latencyRatio(times[0] as number[], times[c + 1] as number[]),
      converged,
      runtime,
    }));
  } finally {
    for (const s of sessions) await s.release();
  }
}
