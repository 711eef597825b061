import type { QuantDtype } from "../dtype/dtype.js";
import type { QParams } from "../qparams/qparams.js";
import type { QuantConvention } from "../scheme/scheme.js";

/** Every observer/calibrator kind {@link createObserver} knows. */
export type ObserverKind =
  | "minmax"
  | "moving-average-minmax"
  | "per-channel-minmax"
  | "moving-average-per-channel-minmax"
  | "histogram"
  | "entropy"
  | "percentile"
  | "mse";

/** All observer kinds, in documentation order. */
export const OBSERVER_KINDS: readonly ObserverKind[] = [
  "minmax",
  "moving-average-minmax",
  "per-channel-minmax",
  "moving-average-per-channel-minmax",
  "histogram",
  "entropy",
  "percentile",
  "mse",
];

/**
 * Options shared by all observers; each kind reads the ones that apply to it and documents its defaults.
 * Defaults follow the anchor each observer comes from.
 */
export interface ObserverOptions {
  /** Target dtype of the qparams. Default `uint8` (PyTorch's quint8 activations). */
  readonly dtype?: QuantDtype;
  /**
   * Symmetric quantization. For PyTorch observers this is the qscheme; for `entropy` it only changes
   * the qparams (as in onnxruntime); for `percentile` it is onnxruntime's calibrator flag (a histogram
   * of |x| and a range `[-t, t]` clipped to what was seen, default true) — qparams stay affine unless
   * `qparamsSymmetric` says otherwise.
   */
  readonly symmetric?: boolean;
  /** Overrides whether qparams are symmetric, independently of the calibration meaning of `symmetric`. */
  readonly qparamsSymmetric?: boolean;
  readonly reduceRange?: boolean;
  readonly narrowRange?: boolean;
  readonly quantMin?: number;
  readonly quantMax?: number;
  /** Channel axis for the per-channel kinds. Default 0. */
  readonly axis?: number;
  /** Arithmetic of `qparams()`; default per kind (see {@link defaultConvention}). */
  readonly convention?: QuantConvention;
  /** Moving-average weight of a new batch. Default 0.01 (PyTorch). */
  readonly averagingConstant?: number;
  /** Histogram bins. Defaults: histogram 2048, entropy 128, percentile 2048, mse 2048. */
  readonly bins?: number;
  /** Entropy: quantized bins of the KL search. Default 128. */
  readonly quantizedBins?: number;
  /** Percentile: the percentile kept. Default 99.999. */
  readonly percentile?: number;
  /** PyTorch minimum scale. Default 2^-23. */
  readonly eps?: number;
  /** MSE: clip candidates per side of the search (at least 100). Default 100. */
  readonly candidates?: number;
}

/** A per-tensor or per-channel float range. */
export interface FloatRange {
  readonly min: Float32Array;
  readonly max: Float32Array;
}

/** Serialized observer: enough to resume or merge in another process. */
export interface ObserverState {
  readonly format: "zeropoint-observer";
  readonly version: 1;
  readonly kind: ObserverKind;
  readonly options: ObserverOptions;
  readonly state: Record<string, unknown>;
}

/**
 * Streams statistics of a tensor and turns them into a range and quantization parameters.
 * Memory does not grow with the number of batches.
 */
export interface Observer {
  readonly kind: ObserverKind;
  /** 2: feed all data, call {@link Observer.nextPass}, then feed the same data again. */
  readonly passes: 1 | 2;
  /** Which pass is being fed (0-based). */
  readonly pass: number;
  /** Feeds a batch. NaN is ignored as min/max do in the anchors; ±Infinity is rejected. */
  observe(data: Float32Array, shape?: readonly number[]): void;
  /** Ends the current pass of a two-pass observer. */
  nextPass(): void;
  /** The range the qparams come from (clipped by the calibration method). */
  range(): FloatRange;
  /** The raw min/max seen. */
  observedRange(): FloatRange;
  /** Quantization parameters from {@link Observer.range}. */
  qparams(): QParams;
  /** Folds in an observer of the same kind and options that saw disjoint data. */
  merge(other: Observer): void;
  /** Serializable state; restore with `observerFromJSON`. */
  toJSON(): ObserverState;
}

/** The convention each kind defaults to: the anchor it reproduces. */
export function defaultConvention(kind: ObserverKind): QuantConvention {
  return kind === "entropy" || kind === "percentile" || kind === "mse" ? "onnxruntime" : "pytorch";
}
