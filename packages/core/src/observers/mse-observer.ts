import { computeQParams } from "../qparams/qparams.js";
import type { ObserverOptions } from "./observer.js";
import { StreamedHistogramObserver } from "./streamed-histogram-observer.js";
import type { TorchHistogram } from "./torch-histogram.js";

/**
 * zeropoint's own calibrator: streams the same merged histogram as PyTorch's HistogramObserver, then
 * searches clip ranges for the least expected quantization MSE. The error of a candidate is exact for
 * a density that is uniform inside each histogram bin: it integrates `(x - Q(x))^2` over every bin,
 * with `Q` the real quantizer of the candidate's qparams (zero-point nudging and clipping included).
 *
 * Search: `candidates` symmetric shrink factors of the observed range, then `candidates` values for
 * each side on its own around the best, so at least 3 × candidates ranges are scored.
 */
export class MseObserver extends StreamedHistogramObserver {
  readonly kind = "mse" as const;

  constructor(options: ObserverOptions = {}) {
    super(options);
  }

  /** Expected squared error per element of quantizing the histogram to the grid of `[lo, hi]`. */
  expectedError(lo: number, hi: number): number {
    const qp = computeQParams(lo, hi, { scheme: this.scheme(false), convention: this.convention });
    return histogramQuantizationError(this.hist, qp.scale[0] as number, qp.zeroPoint[0] as number, qp.qmin, qp.qmax);
  }

  protected clip(): { min: number; max: number } {
    // Every candidate range must contain 0 (qparams do): searching from an all-positive or
    // all-negative histogram's own bounds would otherwise produce candidates with min > max.
    return this.search(Math.min(this.hist.min, 0), Math.max(this.hist.max, 0));
  }

  private search(min: number, max: number): { min: number; max: number } {
    const k = this.options.candidates ?? 100;
    let bestLo = min;
    let bestHi = max;
    let best = this.expectedError(min, max);
    const consider = (lo: number, hi: number) => {
      const e = this.expectedError(lo, hi);
      if (e < best) {
        best = e;
        bestLo = lo;
        bestHi = hi;
      }
    };
    for (let i = 1; i < k; i++) consider((min * i) / k, (max * i) / k);
    for (let round = 0; round < 2; round++) {
      const lo = bestLo;
      for (let i = 1; i <= k; i++) consider(lo, (max * i) / k);
      const hi = bestHi;
      for (let i = 1; i <= k; i++) consider((min * i) / k, hi);
    }
    return { min: Math.fround(bestLo), max: Math.fround(bestHi) };
  }
}

/** ∫ (x - g)^2 dx over [l, u]. */
function sq(l: number, u: number, g: number): number {
  const a = l - g;
  const b = u - g;
  return (b * b * b - a * a * a) / 3;
}

/**
 * Mean squared quantization error of a histogram under `(scale, zeroPoint)` on `qmin..qmax`,
 * assuming uniform density inside each bin.
 */
export function histogramQuantizationError(
  hist: TorchHistogram,
  scale: number,
  zeroPoint: number,
  qmin: number,
  qmax: number,
): number {
  const bins = hist.counts.length;
  const width = (hist.max - hist.min) / bins;
  const lowest = (qmin - zeroPoint) * scale;
  const highest = (qmax - zeroPoint) * scale;
  let total = 0;
  let count = 0;
  for (let i = 0; i < bins; i++) {
    const n = hist.counts[i] as number;
    if (n === 0) continue;
    count += n;
    if (width === 0) {
      const x = hist.min;
      const q = Math.min(Math.max(Math.round(x / scale) + zeroPoint, qmin), qmax);
      const d = x - (q - zeroPoint) * scale;
      total += n * d * d;
      continue;
    }
    const a = hist.min + i * width;
    const b = a + width;
    let err = 0;
    if (a < lowest) err += sq(a, Math.min(b, lowest), lowest);
    if (b > highest) err += sq(Math.max(a, highest), b, highest);
    const l = Math.max(a, lowest);
    const u = Math.min(b, highest);
    if (l < u) {
      let k = Math.floor((l - lowest) / scale + 0.5);
      for (;;) {
        const g = lowest + k * scale;
        const cellLo = Math.max(l, g - scale / 2);
        const cellHi = Math.min(u, g + scale / 2);
        if (cellLo < cellHi) err += sq(cellLo, cellHi, g);
        if (g + scale / 2 >= u) break;
        k++;
      }
    }
    total += (n / width) * err;
  }
  return count === 0 ? 0 : total / count;
}
