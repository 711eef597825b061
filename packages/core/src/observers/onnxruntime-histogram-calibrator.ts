import { ZeropointError } from "../errors/zeropoint-error.js";
import { BaseObserver } from "./base-observer.js";
import {
  entropyThreshold,
  numpyHistogramInto,
  numpyLinspaceF32,
  numpyOuterEdges,
  percentileThreshold,
} from "./numpy-histogram.js";
import type { FloatRange, ObserverOptions } from "./observer.js";
import { checkShape, floatsFromJSON, floatsToJSON } from "./tensor-stats.js";

const f32 = Math.fround;

/**
 * onnxruntime's `Entropy` and `Percentile` calibrators, streaming.
 *
 * `quantize_static` builds **one** histogram over all calibration data: over `±max|x|` (entropy,
 * asymmetric percentile) or over `[min|x|, max|x|]` of absolute values (symmetric percentile). To
 * reproduce that without keeping the data, this observer takes two passes: pass 1 finds the range,
 * pass 2 fills the histogram on the final edges. Results are clipped to the observed `[min, max]`.
 *
 * Defaults as in onnxruntime: entropy 128 bins / 128 quantized bins; percentile 2048 bins, 99.999,
 * symmetric. For entropy, `symmetric` leaves the range unchanged and only makes the qparams symmetric.
 */
export class OnnxruntimeHistogramCalibrator extends BaseObserver {
  readonly kind: "entropy" | "percentile";
  override readonly passes = 2 as const;
  private min = Number.POSITIVE_INFINITY;
  private max = Number.NEGATIVE_INFINITY;
  private absMin = Number.POSITIVE_INFINITY;
  private absMax = Number.NEGATIVE_INFINITY;
  private edges: Float32Array | undefined;
  private counts: Float64Array | undefined;
  private cached: { low: number; high: number } | undefined;

  constructor(kind: "entropy" | "percentile", options: ObserverOptions = {}) {
    super(options);
    this.kind = kind;
  }

  /** Percentile histograms absolute values when symmetric (onnxruntime `collect_absolute_value`). */
  private get absolute(): boolean {
    return this.kind === "percentile" && (this.options.symmetric ?? true);
  }

  protected override defaultQParamsSymmetric(): boolean {
    return this.kind === "entropy" ? (this.options.symmetric ?? false) : false;
  }

  private get bins(): number {
    return this.options.bins ?? (this.kind === "entropy" ? 128 : 2048);
  }

  observe(data: Float32Array, shape?: readonly number[]): void {
    checkShape(data, shape, this.kind);
    if (data.length === 0) return;
    if (this.pass === 0) {
      let lo = this.min;
      let hi = this.max;
      let alo = this.absMin;
      let ahi = this.absMax;
      for (let i = 0; i < data.length; i++) {
        const x = data[i] as number;
        if (Number.isNaN(x)) continue;
        if (x - x !== 0) {
          throw new ZeropointError("non-finite-data", `${this.kind}: element ${i} is ${x}`, { details: { index: i } });
        }
        if (x < lo) lo = x;
        if (x > hi) hi = x;
        const a = x < 0 ? -x : x;
        if (a < alo) alo = a;
        if (a > ahi) ahi = a;
      }
      this.min = lo;
      this.max = hi;
      this.absMin = alo;
      this.absMax = ahi;
      return;
    }
    const edges = this.edges as Float32Array;
    const outside = numpyHistogramInto(this.counts as Float64Array, edges, data, this.absolute);
    this.cached = undefined;
    if (outside > 0) {
      throw new ZeropointError(
        "calibration-pass-mismatch",
        `${this.kind}: ${outside} values in pass 2 lie outside the range seen in pass 1 ([${edges[0]}, ${edges[edges.length - 1]}]); feed the same data in both passes`,
      );
    }
  }

  override nextPass(): void {
    if (this.pass !== 0) throw new ZeropointError("invalid-state", `${this.kind} observer takes exactly 2 passes`);
    this.requireObserved(this.min <= this.max);
    this.buildEdges();
    this.pass = 1;
  }

  private buildEdges(): void {
    let first: number;
    let last: number;
    if (this.absolute) {
      [first, last] = numpyOuterEdges(this.absMin, this.absMax);
    } else {
      const threshold = f32(Math.max(Math.abs(this.min), Math.abs(this.max)));
      [first, last] = numpyOuterEdges(-threshold, threshold);
    }
    this.edges = numpyLinspaceF32(first, last, this.bins + 1);
    this.counts = new Float64Array(this.bins);
  }

  /** The calibration histogram (a copy) once pass 2 has started, for reports. */
  histogram(): { counts: Float64Array; edges: Float32Array } | undefined {
    if (this.counts === undefined || this.edges === undefined) return undefined;
    return { counts: Float64Array.from(this.counts), edges: Float32Array.from(this.edges) };
  }

  range(): FloatRange {
    this.requireObserved(this.min <= this.max);
    if (this.pass === 0 || this.counts === undefined || this.edges === undefined) {
      throw new ZeropointError(
        "observer-not-ready",
        `${this.kind} calibration takes two passes: call nextPass() and feed the same data again`,
      );
    }
    if (this.cached === undefined) {
      let total = 0;
      for (let i = 0; i < this.counts.length; i++) total += this.counts[i] as number;
      if (total === 0) {
        throw new ZeropointError("observer-not-ready", `${this.kind}: pass 2 has seen no data`);
      }
      const t =
        this.kind === "entropy"
          ? entropyThreshold(this.counts, this.edges, this.options.quantizedBins ?? 128)
          : percentileThreshold(this.counts, this.edges, this.options.percentile ?? 99.999, this.absolute);
      this.cached = { low: Math.max(t.low, this.min), high: Math.min(t.high, this.max) };
    }
    return { min: Float32Array.of(this.cached.low), max: Float32Array.of(this.cached.high) };
  }

  observedRange(): FloatRange {
    this.requireObserved(this.min <= this.max);
    return { min: Float32Array.of(this.min), max: Float32Array.of(this.max) };
  }

  protected mergeState(other: this): void {
    if (this.pass !== other.pass) {
      throw new ZeropointError("merge-unsupported", `cannot merge ${this.kind} observers in different passes`);
    }
    if (this.pass === 1) {
      const a = this.edges as Float32Array;
      const b = other.edges as Float32Array;
      const same = a.length === b.length && a[0] === b[0] && a[a.length - 1] === b[b.length - 1];
      if (!same) {
        throw new ZeropointError(
          "merge-unsupported",
          `${this.kind} observers can only be merged in pass 2 when both shards share the pass-1 range (merge the pass-1 observers first)`,
        );
      }
      const counts = this.counts as Float64Array;
      const otherCounts = other.counts as Float64Array;
      for (let i = 0; i < counts.length; i++) counts[i] = (counts[i] as number) + (otherCounts[i] as number);
      this.cached = undefined;
    }
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
    this.absMin = Math.min(this.absMin, other.absMin);
    this.absMax = Math.max(this.absMax, other.absMax);
  }

  protected stateToJSON(): Record<string, unknown> {
    return {
      min: floatsToJSON([this.min, this.max, this.absMin, this.absMax]),
      ...(this.counts === undefined ? {} : { counts: Array.from(this.counts) }),
    };
  }

  /** Restores state written by `toJSON`. */
  restore(state: Record<string, unknown>): void {
    const [min, max, absMin, absMax] = floatsFromJSON(state.min, this.kind);
    this.min = min as number;
    this.max = max as number;
    this.absMin = absMin as number;
    this.absMax = absMax as number;
    this.pass = state.pass === 1 ? 1 : 0;
    if (this.pass === 1) {
      this.buildEdges();
      const counts = floatsFromJSON(state.counts, this.kind);
      if (counts.length !== this.bins)
        throw new ZeropointError("invalid-state", `${this.kind}: expected ${this.bins} counts`);
      this.counts = Float64Array.from(counts);
    }
  }
}
