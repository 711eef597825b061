import { ZeropointError } from "../errors/zeropoint-error.js";
import { channelMinMax } from "../kernels/channel-min-max.js";
import { normalizeAxis } from "../scheme/scheme.js";
import { BaseObserver } from "./base-observer.js";
import type { FloatRange, ObserverOptions } from "./observer.js";
import { checkShape, floatsFromJSON, floatsToJSON } from "./tensor-stats.js";

const f32 = Math.fround;

/**
 * Per-channel min/max along `axis` (PyTorch `PerChannelMinMaxObserver`), or with `movingAverage`
 * `MovingAveragePerChannelMinMaxObserver` (first batch initialises, then float32 EMA per channel).
 * Defaults follow PyTorch: axis 0, affine uint8.
 */
export class PerChannelMinMaxObserver extends BaseObserver {
  readonly kind: "per-channel-minmax" | "moving-average-per-channel-minmax";
  private min: Float64Array | undefined;
  private max: Float64Array | undefined;
  private batchMin: Float64Array | undefined;
  private batchMax: Float64Array | undefined;

  constructor(options: ObserverOptions = {}, movingAverage = false) {
    super(options);
    this.kind = movingAverage ? "moving-average-per-channel-minmax" : "per-channel-minmax";
  }

  protected override get perChannel(): boolean {
    return true;
  }

  observe(data: Float32Array, shape?: readonly number[]): void {
    if (shape === undefined) {
      throw new ZeropointError("invalid-shape", `${this.kind} observer needs the tensor shape to find channels`);
    }
    checkShape(data, shape, this.kind);
    if (data.length === 0) return;
    const axis = normalizeAxis(this.options.axis ?? 0, shape.length);
    const channels = shape[axis] as number;
    if (this.min !== undefined && this.min.length !== channels) {
      throw new ZeropointError(
        "shape-mismatch",
        `${this.kind} observer saw ${this.min.length} channels before, now ${channels} (axis ${axis})`,
      );
    }
    if (this.batchMin === undefined || this.batchMin.length !== channels) {
      this.batchMin = new Float64Array(channels);
      this.batchMax = new Float64Array(channels);
    }
    const bMin = this.batchMin;
    const bMax = this.batchMax as Float64Array;
    channelMinMax(data, shape, axis, bMin, bMax);
    for (let c = 0; c < channels; c++) {
      if (bMin[c] === Number.NEGATIVE_INFINITY || bMax[c] === Number.POSITIVE_INFINITY) {
        throw new ZeropointError("non-finite-data", `${this.kind}: channel ${c} contains an infinite value`, {
          details: { channel: c },
        });
      }
    }
    if (this.min === undefined || this.max === undefined) {
      this.min = Float64Array.from(bMin);
      this.max = Float64Array.from(bMax);
      return;
    }
    const movingAverage = this.kind === "moving-average-per-channel-minmax";
    const c32 = f32(this.options.averagingConstant ?? 0.01);
    for (let c = 0; c < channels; c++) {
      const lo = bMin[c] as number;
      const hi = bMax[c] as number;
      if (lo > hi) continue; // the channel was all NaN in this batch
      const curMin = this.min[c] as number;
      const curMax = this.max[c] as number;
      if (!movingAverage || curMin > curMax) {
        this.min[c] = Math.min(curMin, lo);
        this.max[c] = Math.max(curMax, hi);
      } else {
        this.min[c] = f32(curMin + f32(c32 * f32(lo - curMin)));
        this.max[c] = f32(curMax + f32(c32 * f32(hi - curMax)));
      }
    }
  }

  range(): FloatRange {
    const min = this.min;
    const max = this.max;
    this.requireObserved(min !== undefined && max !== undefined);
    for (let c = 0; c < (min as Float64Array).length; c++) {
      if (!((min as Float64Array)[c]! <= (max as Float64Array)[c]!)) {
        throw new ZeropointError("observer-not-ready", `${this.kind}: channel ${c} has seen no finite data`, {
          details: { channel: c },
        });
      }
    }
    return { min: Float32Array.from(min as Float64Array), max: Float32Array.from(max as Float64Array) };
  }

  observedRange(): FloatRange {
    return this.range();
  }

  protected mergeState(other: this): void {
    if (this.kind === "moving-average-per-channel-minmax") {
      throw new ZeropointError(
        "merge-unsupported",
        "moving-average observers cannot be merged: their result depends on the order of batches",
      );
    }
    if (other.min === undefined || other.max === undefined) return;
    if (this.min === undefined || this.max === undefined) {
      this.min = Float64Array.from(other.min);
      this.max = Float64Array.from(other.max);
      return;
    }
    if (this.min.length !== other.min.length) {
      throw new ZeropointError("shape-mismatch", `cannot merge ${this.min.length} channels with ${other.min.length}`);
    }
    for (let c = 0; c < this.min.length; c++) {
      this.min[c] = Math.min(this.min[c] as number, other.min[c] as number);
      this.max[c] = Math.max(this.max[c] as number, other.max[c] as number);
    }
  }

  protected stateToJSON(): Record<string, unknown> {
    return this.min === undefined || this.max === undefined
      ? {}
      : { min: floatsToJSON(this.min), max: floatsToJSON(this.max) };
  }

  /** Restores state written by `toJSON`. */
  restore(state: Record<string, unknown>): void {
    if (state.min === undefined) return;
    this.min = floatsFromJSON(state.min, this.kind);
    this.max = floatsFromJSON(state.max, this.kind);
  }
}
