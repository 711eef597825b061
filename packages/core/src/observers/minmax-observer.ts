import { ZeropointError } from "../errors/zeropoint-error.js";
import { BaseObserver } from "./base-observer.js";
import type { FloatRange, ObserverOptions } from "./observer.js";
import { checkShape, finiteMinMax, floatsFromJSON, floatsToJSON } from "./tensor-stats.js";

const f32 = Math.fround;

/**
 * Per-tensor min/max (PyTorch `MinMaxObserver`, onnxruntime `MinMaxCalibrater`), or with
 * `movingAverage` PyTorch's `MovingAverageMinMaxObserver`: the first batch initialises the range, then
 * `min += c * (batchMin - min)` in float32.
 */
export class MinMaxObserver extends BaseObserver {
  readonly kind: "minmax" | "moving-average-minmax";
  private min = Number.POSITIVE_INFINITY;
  private max = Number.NEGATIVE_INFINITY;
  private readonly scratch = { min: 0, max: 0 };

  constructor(options: ObserverOptions = {}, movingAverage = false) {
    super(options);
    this.kind = movingAverage ? "moving-average-minmax" : "minmax";
  }

  observe(data: Float32Array, shape?: readonly number[]): void {
    checkShape(data, shape, this.kind);
    if (data.length === 0) return;
    finiteMinMax(data, this.scratch, this.kind);
    const { min, max } = this.scratch;
    if (min > max) return; // all NaN
    if (this.kind === "minmax" || this.min === Number.POSITIVE_INFINITY) {
      this.min = Math.min(this.min, min);
      this.max = Math.max(this.max, max);
      return;
    }
    const c = f32(this.options.averagingConstant ?? 0.01);
    this.min = f32(this.min + f32(c * f32(min - this.min)));
    this.max = f32(this.max + f32(c * f32(max - this.max)));
  }

  range(): FloatRange {
    this.requireObserved(this.min <= this.max);
    return { min: Float32Array.of(this.min), max: Float32Array.of(this.max) };
  }

  observedRange(): FloatRange {
    return this.range();
  }

  protected mergeState(other: this): void {
    if (this.kind === "moving-average-minmax") {
      throw new ZeropointError(
        "merge-unsupported",
        "moving-average observers cannot be merged: their result depends on the order of batches",
      );
    }
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
  }

  protected stateToJSON(): Record<string, unknown> {
    return { min: floatsToJSON([this.min])[0], max: floatsToJSON([this.max])[0] };
  }

  /** Restores state written by `toJSON`. */
  restore(state: Record<string, unknown>): void {
    const [min, max] = floatsFromJSON([state.min, state.max], this.kind);
    this.min = min as number;
    this.max = max as number;
  }
}
