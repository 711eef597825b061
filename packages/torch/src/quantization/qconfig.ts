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
 * PyTorch's `get_default_qconfig(engine)`. x86 and fbgemm: HistogramObserver on quint8 with
 * `reduce_range=True` (0..127, because their AVX2 kernels' 16-bit intermediate sums could
 * saturate with full-range activations) and per-channel symmetric qint8 weights along axis 0.
 * qnnpack: full-range HistogramObserver and per-tensor symmetric qint8 weights.
 */
export function getDefaultQConfig(engine: QuantizedEngine = "x86"): QConfig {
  switch (engine) {
    case "x86":
    case "fbgemm":
      return {
        engine,
        activation: () => createObserver("histogram", { dtype: "uint8", reduceRange: true }),
        weight: () => createObserver("per-channel-minmax", { dtype: "int8", symmetric: true, axis: 0 }),
      };
    case "qnnpack":
      return {
        engine,
        activation: () => createObserver("histogram", { dtype: "uint8", reduceRange: false }),
        weight: () => createObserver("minmax", { dtype: "int8", symmetric: true }),
      };
    default:
      throw new ZeropointError("invalid-argument", `unknown quantized engine ${JSON.stringify(engine)}`);
  }
}
