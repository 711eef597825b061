import { ZeropointError } from "../errors/zeropoint-error.js";
import { computeQParams, type QParams } from "../qparams/qparams.js";
import type { QuantConvention, QuantScheme } from "../scheme/scheme.js";
import {
  defaultConvention,
  type FloatRange,
  type Observer,
  type ObserverKind,
  type ObserverOptions,
  type ObserverState,
} from "./observer.js";

/** Shared option handling and qparams for all observers. */
export abstract class BaseObserver implements Observer {
  abstract readonly kind: ObserverKind;
  readonly passes: 1 | 2 = 1;
  pass = 0;
  protected readonly options: ObserverOptions;

  constructor(options: ObserverOptions) {
    this.options = { ...options };
    validateOptions(this.options);
  }

  abstract observe(data: Float32Array, shape?: readonly number[]): void;
  abstract range(): FloatRange;
  abstract observedRange(): FloatRange;
  protected abstract mergeState(other: this): void;
  protected abstract stateToJSON(): Record<string, unknown>;

  nextPass(): void {
    if (this.pass + 1 >= this.passes) {
      throw new ZeropointError("invalid-state", `${this.kind} observer takes ${this.passes} pass(es); no further pass`);
    }
    this.pass++;
  }

  /** The convention `qparams()` uses. */
  get convention(): QuantConvention {
    return this.options.convention ?? defaultConvention(this.kind);
  }

  /** The scheme `qparams()` uses. */
  protected scheme(perChannel: boolean): QuantScheme {
    const o = this.options;
    return {
      dtype: o.dtype ?? "uint8",
      symmetric: o.qparamsSymmetric ?? this.defaultQParamsSymmetric(),
      granularity: perChannel ? "per-channel" : "per-tensor",
      ...(perChannel ? { axis: o.axis ?? 0 } : {}),
      ...(o.reduceRange !== undefined ? { reduceRange: o.reduceRange } : {}),
      ...(o.narrowRange !== undefined ? { narrowRange: o.narrowRange } : {}),
      ...(o.quantMin !== undefined ? { quantMin: o.quantMin } : {}),
      ...(o.quantMax !== undefined ? { quantMax: o.quantMax } : {}),
    };
  }

  protected defaultQParamsSymmetric(): boolean {
    return this.options.symmetric ?? false;
  }

  protected get perChannel(): boolean {
    return false;
  }

  qparams(): QParams {
    const { min, max } = this.range();
    return computeQParams(min, max, {
      scheme: this.scheme(this.perChannel),
      convention: this.convention,
      ...(this.options.eps !== undefined ? { eps: this.options.eps } : {}),
    });
  }

  merge(other: Observer): void {
    if (other.kind !== this.kind || !(other instanceof BaseObserver)) {
      throw new ZeropointError(
        "merge-unsupported",
        `cannot merge a ${other.kind} observer into a ${this.kind} observer`,
      );
    }
    if (JSON.stringify(sortKeys(other.options)) !== JSON.stringify(sortKeys(this.options))) {
      throw new ZeropointError("merge-unsupported", `cannot merge ${this.kind} observers with different options`);
    }
    this.mergeState(other as this);
  }

  toJSON(): ObserverState {
    return {
      format: "zeropoint-observer",
      version: 1,
      kind: this.kind,
      options: this.options,
      state: { pass: this.pass, ...this.stateToJSON() },
    };
  }

  /** Throws `observer-not-ready` unless data was seen. */
  protected requireObserved(seen: boolean): void {
    if (!seen) {
      throw new ZeropointError(
        "observer-not-ready",
        `${this.kind} observer has seen no finite data (empty calibration set?)`,
      );
    }
  }
}

function sortKeys(o: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}

function validateOptions(o: ObserverOptions): void {
  const positiveInt = (name: keyof ObserverOptions, min = 1) => {
    const v = o[name];
    if (v !== undefined && (typeof v !== "number" || !Number.isInteger(v) || v < min)) {
      throw new ZeropointError(
        "invalid-argument",
        `observer option ${name} must be an integer >= ${min}, got ${String(v)}`,
      );
    }
  };
  positiveInt("bins", 2);
  positiveInt("quantizedBins", 2);
  positiveInt("candidates", 100);
  if (o.averagingConstant !== undefined && !(o.averagingConstant > 0 && o.averagingConstant <= 1)) {
    throw new ZeropointError("invalid-argument", `averagingConstant must be in (0, 1], got ${o.averagingConstant}`);
  }
  if (o.percentile !== undefined && !(o.percentile >= 0 && o.percentile <= 100)) {
    throw new ZeropointError("invalid-argument", `percentile must be in [0, 100], got ${o.percentile}`);
  }
  if (o.axis !== undefined && !Number.isInteger(o.axis)) {
    throw new ZeropointError("invalid-axis", `axis must be an integer, got ${o.axis}`);
  }
}
