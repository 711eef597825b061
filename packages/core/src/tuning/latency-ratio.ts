import { ZeropointError } from "../errors/zeropoint-error.js";

/**
 * The speed of a candidate relative to a baseline from interleaved timing rounds: each round times
 * the baseline and the candidate back to back, so slow drifts of the machine (frequency, other
 * load) hit both. The per-round speedup `baseline / candidate` is summarised on the log scale,
 * where ratios are symmetric: mean ± t·sd/√n of `log(speedup)`, exponentiated.
 */
export interface LatencyRatio {
  /**
   * Geometric-mean speedup over the rounds (> 1: the candidate is faster): the centre of the
   * interval below, so the point estimate always lies inside it (a per-round median need not).
   */
  readonly speedup: number;
  /** 95% confidence interval of the geometric-mean speedup. */
  readonly low: number;
  readonly high: number;
  /** Half-width of the interval relative to its centre (0.03 = ±3%). */
  readonly relativeHalfWidth: number;
  /** Median times (ms) of the baseline and the candidate over the rounds. */
  readonly baselineMs: number;
  readonly candidateMs: number;
  readonly rounds: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

// Two-sided 95% Student t quantiles for n - 1 degrees of freedom (1..30); 1.96 beyond.
const T95 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11,
  2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** Summarises paired timings (`baselineMs[i]` and `candidateMs[i]` from the same round). */
export function latencyRatio(baselineMs: readonly number[], candidateMs: readonly number[]): LatencyRatio {
  const n = baselineMs.length;
  if (n !== candidateMs.length) throw new ZeropointError("shape-mismatch", "paired timings differ in length");
  if (n < 2) throw new ZeropointError("empty-data", "a latency ratio needs at least two rounds");
  const logs: number[] = [];
  for (let i = 0; i < n; i++) {
    const b = baselineMs[i] as number;
    const c = candidateMs[i] as number;
    if (!(b > 0 && c > 0 && Number.isFinite(b) && Number.isFinite(c))) {
      throw new ZeropointError("non-finite-data", `round ${i}: timings must be positive (${b}, ${c})`);
    }
    logs.push(Math.log(b / c));
  }
  let mean = 0;
  for (const l of logs) mean += l;
  mean /= n;
  let ss = 0;
  for (const l of logs) ss += (l - mean) ** 2;
  const sd = Math.sqrt(ss / (n - 1));
  const t = T95[n - 2] ?? 1.96;
  const half = (t * sd) / Math.sqrt(n);
  const low = Math.exp(mean - half);
  const high = Math.exp(mean + half);
  return {
    speedup: Math.exp(mean),
    low,
    high,
    relativeHalfWidth: (high - low) / (high + low),
    baselineMs: median(baselineMs),
    candidateMs: median(candidateMs),
    rounds: n,
  };
}
