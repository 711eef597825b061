import { createObserver, type Observer, ZeropointError } from "@zeropoint/core";
import type { QuantizedEngine } from "./dynamic.js";

/**
 * How a module is quantized (PyTorch's `QConfig`): factories for the observer of its output
 * activations and of its weight. Factories, not instances, because every module gets its own.
 */
export interface QConfig {
  readonly activation: () => Observer;
  readonly weight: () => Observer;
  /** Engine whose kernels the converted modules reproduce. */
  readonly engine: QuantizedEngine;
}

/**
 * Overrides of the default qconfigs: a narrower weight grid, e.g. 2-bit weights (−2..1), as
 * PyTorch's observer `quant_min`/`quant_max`.
 */
export interface QConfigOptions {
  readonly weightQuantMin?: number;
  readonly weightQuantMax?: number;
}

function weightRange(options: QConfigOptions): { quantMin?: number; quantMax?: number } {
  if (options.weightQuantMin === undefined && options.weightQuantMax === undefined) return {};
  const quantMin = options.weightQuantMin ?? -128;
  const quantMax = options.weightQuantMax ?? 127;
  if (
    !Number.isInteger(quantMin) ||
    !Number.isInteger(quantMax) ||
    quantMin < -128 ||
    quantMax > 127 ||
    quantMin >= quantMax
  ) {
    throw new ZeropointError(
      "invalid-range",
      `weight range ${quantMin}..${quantMax} must be integers within -128..127 with min < max`,
    );
  }
  return { quantMin, quantMax };
}

/**
 * PyTorch's `get_default_qconfig(engine)`. x86 and fbgemm: HistogramObserver on quint8 with
 * `reduce_range=True` (0..127, because their AVX2 kernels' 16-bit intermediate sums could
 * saturate with full-range activations) and per-channel symmetric qint8 weights along axis 0.
 * qnnpack: full-range HistogramObserver and per-tensor symmetric qint8 weights.
 */
export function getDefaultQConfig(engine: QuantizedEngine = "x86", options: QConfigOptions = {}): QConfig {
  const range = weightRange(options);
  switch (engine) {
    case "x86":
    case "fbgemm":
      return {
        engine,
        activation: () => createObserver("histogram", { dtype: "uint8", reduceRange: true }),
        weight: () => createObserver("per-channel-minmax", { dtype: "int8", symmetric: true, axis: 0, ...range }),
      };
    case "qnnpack":
      return {
        engine,
        activation: () => createObserver("histogram", { dtype: "uint8", reduceRange: false }),
        weight: () => createObserver("minmax", { dtype: "int8", symmetric: true, ...range }),
      };
    default:
      throw new ZeropointError("invalid-argument", `unknown quantized engine ${JSON.stringify(engine)}`);
  }
}

/**
 * PyTorch's `get_default_qat_qconfig(engine)`: moving-average min/max observers (averaging constant
 * 0.01) inside fake quantizers. x86/fbgemm: quint8 activations with reduce_range (0..127) and
 * per-channel symmetric qint8 weights; qnnpack: full-range activations, per-tensor weights.
 * `weightQuantMin`/`weightQuantMax` narrow the weight grid (PyTorch's `quant_min`/`quant_max`).
 */
export function getDefaultQatQConfig(engine: QuantizedEngine = "x86", options: QConfigOptions = {}): QConfig {
  const range = weightRange(options);
  switch (engine) {
    case "x86":
    case "fbgemm":
      return {
        engine,
        activation: () => createObserver("moving-average-minmax", { dtype: "uint8", reduceRange: true }),
        weight: () =>
          createObserver("moving-average-per-channel-minmax", { dtype: "int8", symmetric: true, axis: 0, ...range }),
      };
    case "qnnpack":
      return {
        engine,
        activation: () => createObserver("moving-average-minmax", { dtype: "uint8", reduceRange: false }),
        weight: () => createObserver("moving-average-minmax", { dtype: "int8", symmetric: true, ...range }),
      };
    default:
      throw new ZeropointError("invalid-argument", `unknown quantized engine ${JSON.stringify(engine)}`);
  }
}
