import { BatchNorm2d, Conv2d, Linear, MaxPool2d, ReLU } from "../nn/layers.js";
import type { Module } from "../nn/module.js";

// biome-ignore lint/suspicious/noExplicitAny: module classes have varied constructor signatures
type ModuleClass = abstract new (...args: any[]) => Module;

/**
 * What a backend can run quantized, as PyTorch's BackendConfig: the module sequences it fuses
 * (matched in the traced graph), the ops it computes in int8 with observed inputs and outputs, and
 * the ops whose output shares its input's observer (same scale and zero point: the observer sees both
 * tensors). Anything else stays float, with dequantize/quantize around it.
 */
export interface BackendConfig {
  readonly name: string;
  readonly fusions: readonly (readonly ModuleClass[])[];
  readonly quantized: readonly ModuleClass[];
  readonly sharesInputObserver: readonly ModuleClass[];
}

/** The subset of PyTorch's x86 backend config this package implements kernels for. */
export const x86BackendConfig: BackendConfig = {
  name: "x86",
  fusions: [
    [Conv2d, BatchNorm2d, ReLU],
    [Conv2d, BatchNorm2d],
    [Conv2d, ReLU],
    [BatchNorm2d, ReLU],
    [Linear, ReLU],
  ],
  quantized: [Conv2d, Linear, BatchNorm2d],
  sharesInputObserver: [MaxPool2d, ReLU],
};
