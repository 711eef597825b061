import type { QParams } from "@zeropoint/core";

/** One tensor's quantization parameters in the exported JSON. */
export interface TensorQParams {
  readonly dtype: "uint8" | "int8";
  readonly scale: number[];
  readonly zeroPoint: number[];
  readonly qmin: number;
  readonly qmax: number;
  /** Channel axis of per-channel parameters, in the tensor's quantization view. */
  readonly axis?: number;
  /** The shape the parameters apply to (for kernels: channels on the last axis). */
  readonly view?: number[];
}

/** One layer of the quantized model as the integer executor reads it. */
export interface QuantizedLayer {
  readonly name: string;
  readonly className: string;
  /** Names of input activation tensors (the producing layers' names). */
  readonly inputs: string[];
  /** Name of the output activation tensor (this layer's name). */
  readonly output: string;
  /** The Keras layer config (strides, padding, activation, ...). */
  readonly config: Record<string, unknown>;
  /** Name of the kernel tensor in `tensors`, for Conv2D/DepthwiseConv2D/Dense. */
  readonly kernel?: string;
  /** True when the layer has a (float) bias, which an int8 runtime stores as int32 at `sx·sw`. */
  readonly hasBias?: boolean;
}

/**
 * The quantization parameters of a static or QAT-converted tfjs model: per tensor scale, zero point
 * and dtype (TFLite's int8 spec with uint8 activations), plus the layer list an integer runtime needs.
 */
export interface QuantizationParameters {
  readonly format: "zeropoint-tfjs-qparams";
  readonly version: 1;
  readonly convention: "tflite";
  readonly model: string;
  readonly inputs: string[];
  readonly outputs: string[];
  readonly tensors: Record<string, TensorQParams>;
  readonly layers: QuantizedLayer[];
}

/** Core qparams → the JSON form. */
export function toTensorQParams(q: QParams, view?: readonly number[]): TensorQParams {
  return {
    dtype: q.dtype === "int8" ? "int8" : "uint8",
    scale: Array.from(q.scale),
    zeroPoint: Array.from(q.zeroPoint),
    qmin: q.qmin,
    qmax: q.qmax,
    ...(q.axis !== undefined ? { axis: q.axis } : {}),
    ...(view !== undefined ? { view: [...view] } : {}),
  };
}
