import { ZeropointError } from "../errors/zeropoint-error.js";
import { BaseObserver } from "./base-observer.js";
import type { FloatRange, ObserverOptions } from "./observer.js";
import { checkShape, finiteMinMax, floatsFromJSON, floatsToJSON } from "./tensor-stats.js";
import { mergeHistograms, observeIntoHistogram, type TorchHistogram } from "./torch-histogram.js";

/**
 * Observers that stream PyTorch's merged histogram (HistogramObserver semantics) and pick a clip
 * range from it: state, merging and serialization live here, the clipping rule in subclasses.
 */
export abstract class StreamedHistogramObserver extends BaseObserver {
  protected hist: TorchHistogram;
  private readonly scratch = { min: 0, max: 0 };
  private cached: { min: number; max: number } | undefined;

  constructor(options: ObserverOptions) {
    super(options);
    this.hist = {
      counts: new Float32Array(options.bins ?? 2048),
      min: Number.POSITIVE_INFINITY,
      max: Number.NEGATIVE_INFINITY,
    };
  }

  /** The clipped range for the current histogram. */
  protected abstract clip(): { min: number; max: number };

  observe(data: Float32Array, shape?: readonly number[]): void {
    checkShape(data, shape, this.kind);
    if (data.length === 0) return;
    finiteMinMax(data, this.scratch, this.kind);
    if (this.scratch.min > this.scratch.max) return;
    this.cached = undefined;
    observeIntoHistogram(this.hist, data, this.scratch.min, this.scratch.max);
  }

  /** The current histogram (a copy), for reports. */
  histogram(): { counts: Float32Array; min: number; max: number } {
    return { counts: Float32Array.from(this.hist.counts), min: this.hist.min, max: this.hist.max };
  }

  range(): FloatRange {
    this.requireObserved(this.hist.min <= this.hist.max);
    this.cached ??= this.clip();
    return { min: Float32Array.of(this.cached.min), max: Float32Array.of(this.cached.max) };
  }

  observedRange(): FloatRange {
    this.requireObserved(this.hist.min <= this.hist.max);
    return { min: Float32Array.of(this.hist.min), max: Float32Array.of(this.hist.max) };
  }

  protected mergeState(other: this): void {
    if (other.hist.counts.length !== this.hist.counts.length) {
      throw new ZeropointError("merge-unsupported", "cannot merge histograms with different bin counts");
    }
    this.hist = mergeHistograms(this.hist, other.hist);
    this.cached = undefined;
  }

  protected stateToJSON(): Record<string, unknown> {
    return {
      counts: floatsToJSON(this.hist.counts),
      min: floatsToJSON([this.hist.min])[0],
      max: floatsToJSON([this.hist.max])[0],
    };
  }

  /** Restores state written by `toJSON`. */
  restore(state: Record<string, unknown>): void {
    const counts = Float32Array.from(floatsFromJSON(state.counts, this.kind));
    if (counts.length !== this.hist.counts.length) {
      throw new ZeropointError(
        "invalid-state",
        `${this.kind} state has ${counts.length} bins, options say ${this.hist.counts.length}`,
      );
    }
    const [min, max] = floatsFromJSON([state.min, state.max], this.kind);
    this.hist = { counts, min: min as number, max: max as number };
    this.cached = undefined;
  }
}
