import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { conv2dInt8, gemmInt8, roundHalfToEven, ZeropointError } from "@zeropoint/core";
import type { QuantizationParameters, QuantizedLayer, TensorQParams } from "../static/quantization-parameters.js";

/** An int8/uint8 activation in NHWC (or [N, features]) layout. */
export interface IntegerTensor {
  readonly data: Uint8Array;
  readonly shape: number[];
}

/** Float kernel and bias of one layer, as stored in the fake-quantized model. */
export interface LayerWeights {
  readonly kernel: Float32Array;
  readonly kernelShape: readonly number[];
  readonly bias?: Float32Array;
}

/** Output of {@link IntegerExecutor.run}. */
export interface IntegerRunResult {
  /** Model outputs, dequantized to float. */
  readonly outputs: Map<string, { data: Float32Array; shape: number[] }>;
  /** Every layer's uint8 output, by tensor name (present when requested). */
  readonly activations: Map<string, IntegerTensor>;
}

interface PreparedKernel {
  /** Conv: `[M, C/group, kH, kW]`; Dense: `[K, N]`. */
  readonly weight: Int8Array;
  readonly weightShape: number[];
  readonly bias?: Int32Array;
  readonly multiplier: Float32Array;
}

const f32 = Math.fround;

/**
 * `clamp(floor(float32(acc) · m + 0.5) + zp)`, in float32. Core's `requantizeFloat` rounds ties to
 * even (onnxruntime/MLAS); this check reproduces the emulated model, whose fake quantization is TF's
 * `FakeQuantWithMinMaxVars` (`floor(x / s + 0.5)`), so it rounds ties up like that op.
 */
function requantizeHalfUp(
  acc: Int32Array,
  multiplier: Float32Array,
  target: { zeroPoint: number; qmin: number; qmax: number },
  out: Uint8Array,
  channelStride: number,
): void {
  const channels = multiplier.length;
  const { zeroPoint, qmin, qmax } = target;
  for (let i = 0; i < acc.length; i++) {
    const m = multiplier[Math.floor(i / channelStride) % channels] as number;
    const q = Math.floor(f32(f32(f32(acc[i] as number) * m) + 0.5)) + zeroPoint;
    out[i] = q < qmin ? qmin : q > qmax ? qmax : q;
  }
}

function single(q: TensorQParams, name: string): { scale: number; zeroPoint: number } {
  if (q.scale.length !== 1)
    throw new ZeropointError("invalid-model", `activation ${name} must be quantized per tensor`);
  return { scale: q.scale[0] as number, zeroPoint: q.zeroPoint[0] as number };
}

function pair(value: unknown, fallback: number): [number, number] {
  if (Array.isArray(value)) return [value[0] as number, (value[1] ?? value[0]) as number];
  if (typeof value === "number") return [value, value];
  return [fallback, fallback];
}

/** Keras `Permute` (1-based `dims` over the non-batch axes) on integer data. */
function permute(x: IntegerTensor, dims: readonly number[]): IntegerTensor {
  const perm = [0, ...dims];
  const shape = perm.map((p) => x.shape[p] as number);
  const rank = shape.length;
  const inStrides = new Array<number>(rank).fill(1);
  for (let i = rank - 2; i >= 0; i--) inStrides[i] = (inStrides[i + 1] as number) * (x.shape[i + 1] as number);
  const out = new Uint8Array(x.data.length);
  const index = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let d = 0; d < rank; d++) src += (index[d] as number) * (inStrides[perm[d] as number] as number);
    out[o] = x.data[src] as number;
    for (let d = rank - 1; d >= 0; d--) {
      index[d] = (index[d] as number) + 1;
      if ((index[d] as number) < (shape[d] as number)) break;
      index[d] = 0;
    }
  }
  return { data: out, shape };
}

/**
 * Runs a quantized tfjs model the way an int8 runtime would, from the exported parameter JSON and
 * the weights: uint8 activations, int8 kernels, int32 biases at `sx·sw`, core's `conv2dInt8` /
 * `gemmInt8` accumulation and float-multiplier requantization (ties up, as TF's fake quantization),
 * fused ReLU/ReLU6 as clamps. It exists to show what an integer deployment of the emulated model
 * computes; tfjs itself has no integer kernels.
 */
export class IntegerExecutor {
  private readonly kernels = new Map<string, PreparedKernel>();

  constructor(
    readonly parameters: QuantizationParameters,
    weights: ReadonlyMap<string, LayerWeights>,
  ) {
    if (parameters.format !== "zeropoint-tfjs-qparams" || parameters.version !== 1) {
      throw new ZeropointError("invalid-model", "not a zeropoint-tfjs-qparams v1 document");
    }
    for (const layer of parameters.layers) {
      if (layer.kernel === undefined) continue;
      const w = weights.get(layer.name);
      if (w === undefined)
        throw new ZeropointError("invalid-model", `no weights for layer ${layer.name}`, {
          details: { layer: layer.name },
        });
      this.kernels.set(layer.name, this.prepare(layer, w));
    }
  }

  /** Reads kernels and biases from the fake-quantized LayersModel. */
  static fromModel(parameters: QuantizationParameters, model: tfl.LayersModel): IntegerExecutor {
    const weights = new Map<string, LayerWeights>();
    for (const layer of parameters.layers) {
      if (layer.kernel === undefined) continue;
      const list = model.getLayer(layer.name).getWeights();
      const kernel = list[0] as tf.Tensor;
      const bias = list[1];
      weights.set(layer.name, {
        kernel: kernel.dataSync() as Float32Array,
        kernelShape: kernel.shape,
        ...(bias !== undefined ? { bias: bias.dataSync() as Float32Array } : {}),
      });
    }
    return new IntegerExecutor(parameters, weights);
  }

  private tensor(name: string): TensorQParams {
    const t = this.parameters.tensors[name];
    if (t === undefined)
      throw new ZeropointError("invalid-model", `no quantization parameters for tensor ${name}`, {
        details: { tensor: name },
      });
    return t;
  }

  private prepare(layer: QuantizedLayer, w: LayerWeights): PreparedKernel {
    const kq = this.tensor(layer.kernel as string);
    const x = single(this.tensor(layer.inputs[0] as string), layer.inputs[0] as string);
    const y = single(this.tensor(layer.output), layer.output);
    const channels = kq.scale.length;
    const s = w.kernelShape;
    const outChannels =
      layer.className === "DepthwiseConv2D" ? (s[2] as number) * (s[3] as number) : (s[s.length - 1] as number);
    const ints = new Int8Array(w.kernel.length);
    for (let i = 0; i < ints.length; i++) {
      const c = channels === 1 ? 0 : i % channels;
      const q = Math.round((w.kernel[i] as number) / (kq.scale[c] as number)) + (kq.zeroPoint[c] as number);
      if (q < kq.qmin || q > kq.qmax) {
        throw new ZeropointError(
          "invalid-model",
          `kernel of ${layer.name} is not on its quantization grid (element ${i})`,
          {
            details: { layer: layer.name },
          },
        );
      }
      ints[i] = q;
    }
    const multiplier = new Float32Array(outChannels);
    const bias = w.bias === undefined ? undefined : new Int32Array(outChannels);
    for (let c = 0; c < outChannels; c++) {
      const sw = kq.scale[channels === 1 ? 0 : c] as number;
      multiplier[c] = f32((x.scale * sw) / y.scale);
      if (bias !== undefined) bias[c] = roundHalfToEven((w.bias?.[c] as number) / (x.scale * sw));
    }
    let weight: Int8Array;
    let weightShape: number[];
    if (layer.className === "Dense") {
      weight = ints;
      weightShape = [...s];
    } else {
      // tfjs [kh, kw, ci, co] (depthwise: [kh, kw, ci, mult]) → core's [M, C/group, kh, kw].
      const [kh, kw, ci, co] = s as [number, number, number, number];
      const depthwise = layer.className === "DepthwiseConv2D";
      const m = depthwise ? ci * co : co;
      const cPerGroup = depthwise ? 1 : ci;
      weight = new Int8Array(ints.length);
      for (let a = 0; a < kh; a++)
        for (let b = 0; b < kw; b++)
          for (let c = 0; c < ci; c++)
            for (let o = 0; o < co; o++) {
              const src = ((a * kw + b) * ci + c) * co + o;
              const out = depthwise ? c * co + o : o;
              const inC = depthwise ? 0 : c;
              weight[((out * cPerGroup + inC) * kh + a) * kw + b] = ints[src] as number;
            }
      weightShape = [m, cPerGroup, kh, kw];
    }
    return { weight, weightShape, ...(bias !== undefined ? { bias } : {}), multiplier };
  }

  /**
   * Runs a batch. `input` is float NHWC (as the float model takes it); it is quantized with the
   * input tensor's parameters exactly as the fake-quant layer does (TF rounding, half up).
   */
  run(input: Float32Array, shape: readonly number[], options: { keepActivations?: boolean } = {}): IntegerRunResult {
    const values = new Map<string, IntegerTensor>();
    const activations = new Map<string, IntegerTensor>();
    for (const layer of this.parameters.layers) {
      let out: IntegerTensor;
      if (layer.className === "InputLayer") out = this.quantizeInput(layer, input, shape);
      else {
        const inputs = layer.inputs.map((n) => {
          const v = values.get(n);
          if (v === undefined)
            throw new ZeropointError("invalid-model", `layer ${layer.name} reads ${n} before it is computed`);
          return v;
        });
        out = this.runLayer(layer, inputs);
      }
      values.set(layer.output, out);
      if (options.keepActivations) activations.set(layer.output, out);
    }
    const outputs = new Map<string, { data: Float32Array; shape: number[] }>();
    for (const name of this.parameters.outputs) {
      const v = values.get(name) as IntegerTensor;
      const q = single(this.tensor(name), name);
      const data = new Float32Array(v.data.length);
      for (let i = 0; i < data.length; i++) data[i] = ((v.data[i] as number) - q.zeroPoint) * q.scale;
      outputs.set(name, { data, shape: v.shape });
    }
    return { outputs, activations };
  }

  private quantizeInput(layer: QuantizedLayer, input: Float32Array, shape: readonly number[]): IntegerTensor {
    const q = this.tensor(layer.output);
    const { scale, zeroPoint } = single(q, layer.output);
    const nudgedMin = f32((q.qmin - zeroPoint) * scale);
    const nudgedMax = f32((q.qmax - zeroPoint) * scale);
    const inv = f32(1 / scale);
    const data = new Uint8Array(input.length);
    for (let i = 0; i < input.length; i++) {
      const x = input[i] as number;
      const c = x < nudgedMin ? nudgedMin : x > nudgedMax ? nudgedMax : x;
      data[i] = q.qmin + Math.floor(f32(f32(f32(c - nudgedMin) * inv) + 0.5));
    }
    return { data, shape: [...shape] };
  }

  private clampRange(layer: QuantizedLayer): { qmin: number; qmax: number } {
    const q = this.tensor(layer.output);
    const { scale, zeroPoint } = single(q, layer.output);
    const activation = (layer.config.activation as string | undefined) ?? "linear";
    if (activation === "linear") return { qmin: q.qmin, qmax: q.qmax };
    if (activation === "relu") return { qmin: Math.max(q.qmin, zeroPoint), qmax: q.qmax };
    if (activation === "relu6") {
      return { qmin: Math.max(q.qmin, zeroPoint), qmax: Math.min(q.qmax, zeroPoint + roundHalfToEven(6 / scale)) };
    }
    throw new ZeropointError(
      "unsupported-op",
      `layer ${layer.name}: activation ${activation} has no integer implementation`,
      {
        details: { layer: layer.name },
      },
    );
  }

  private runLayer(layer: QuantizedLayer, inputs: IntegerTensor[]): IntegerTensor {
    const x = inputs[0] as IntegerTensor;
    switch (layer.className) {
      case "Conv2D":
      case "DepthwiseConv2D":
        return this.conv(layer, x);
      case "Dense":
        return this.dense(layer, x);
      case "MaxPooling2D":
        return this.maxPool(layer, x);
      case "Flatten":
        return { data: x.data, shape: [x.shape[0] as number, x.data.length / (x.shape[0] as number)] };
      case "Reshape":
        return { data: x.data, shape: [x.shape[0] as number, ...((layer.config.target_shape as number[]) ?? [])] };
      case "Dropout":
        return x;
      case "Permute":
        return permute(x, layer.config.dims as number[]);
      case "Add":
        return this.add(layer, inputs);
      default:
        throw new ZeropointError(
          "unsupported-op",
          `layer ${layer.name}: ${layer.className} has no integer implementation`,
          {
            details: { layer: layer.name, className: layer.className },
          },
        );
    }
  }

  private conv(layer: QuantizedLayer, x: IntegerTensor): IntegerTensor {
    const k = this.kernels.get(layer.name) as PreparedKernel;
    const [n, h, w, c] = x.shape as [number, number, number, number];
    const depthwise = layer.className === "DepthwiseConv2D";
    const [kh, kw] = [k.weightShape[2] as number, k.weightShape[3] as number];
    const m = k.weightShape[0] as number;
    const strides = pair(layer.config.strides, 1);
    const dilations = pair(layer.config.dilation_rate, 1);
    const info = tf.backend_util.computeConv2DInfo(
      [n, h, w, c],
      depthwise ? [kh, kw, c, m / c] : [kh, kw, c, m],
      strides,
      dilations,
      layer.config.padding as "same" | "valid",
      undefined,
      depthwise,
    );
    const nchw = new Uint8Array(x.data.length);
    for (let b = 0; b < n; b++)
      for (let i = 0; i < h; i++)
        for (let j = 0; j < w; j++)
          for (let ch = 0; ch < c; ch++)
            nchw[((b * c + ch) * h + i) * w + j] = x.data[((b * h + i) * w + j) * c + ch] as number;
    const { output, shape } = conv2dInt8({
      input: nchw,
      inputShape: [n, c, h, w],
      inputZeroPoint: single(this.tensor(layer.inputs[0] as string), "input").zeroPoint,
      weight: k.weight,
      weightShape: k.weightShape as [number, number, number, number],
      weightZeroPoint: 0,
      ...(k.bias !== undefined ? { bias: k.bias } : {}),
      strides,
      dilations,
      pads: [info.padInfo.top, info.padInfo.left, info.padInfo.bottom, info.padInfo.right],
      group: depthwise ? c : 1,
    });
    const [, oc, oh, ow] = shape;
    const { zeroPoint } = single(this.tensor(layer.output), layer.output);
    const q = new Uint8Array(output.length);
    requantizeHalfUp(output, k.multiplier, { zeroPoint, ...this.clampRange(layer) }, q, oh * ow);
    const nhwc = new Uint8Array(q.length);
    for (let b = 0; b < n; b++)
      for (let ch = 0; ch < oc; ch++)
        for (let i = 0; i < oh; i++)
          for (let j = 0; j < ow; j++)
            nhwc[((b * oh + i) * ow + j) * oc + ch] = q[((b * oc + ch) * oh + i) * ow + j] as number;
    return { data: nhwc, shape: [n, oh, ow, oc] };
  }

  private dense(layer: QuantizedLayer, x: IntegerTensor): IntegerTensor {
    const k = this.kernels.get(layer.name) as PreparedKernel;
    if (x.shape.length !== 2) {
      throw new ZeropointError(
        "unsupported-op",
        `layer ${layer.name}: integer Dense needs a rank-2 input, got [${x.shape.join(", ")}]`,
      );
    }
    const [rows, depth] = x.shape as [number, number];
    const [kk, cols] = k.weightShape as [number, number];
    if (kk !== depth)
      throw new ZeropointError(
        "shape-mismatch",
        `layer ${layer.name}: input has ${depth} features, kernel expects ${kk}`,
      );
    const acc = gemmInt8({
      a: x.data,
      b: k.weight,
      m: rows,
      k: depth,
      n: cols,
      aZeroPoint: single(this.tensor(layer.inputs[0] as string), "input").zeroPoint,
      bZeroPoint: 0,
      ...(k.bias !== undefined ? { bias: k.bias } : {}),
    });
    const { zeroPoint } = single(this.tensor(layer.output), layer.output);
    const q = new Uint8Array(acc.length);
    requantizeHalfUp(acc, k.multiplier, { zeroPoint, ...this.clampRange(layer) }, q, 1);
    return { data: q, shape: [rows, cols] };
  }

  private maxPool(layer: QuantizedLayer, x: IntegerTensor): IntegerTensor {
    const [n, h, w, c] = x.shape as [number, number, number, number];
    const pool = pair(layer.config.pool_size, 2);
    const strides = pair(layer.config.strides ?? layer.config.pool_size, pool[0]);
    const info = tf.backend_util.computePool2DInfo(
      [n, h, w, c],
      pool,
      strides,
      1,
      layer.config.padding as "same" | "valid",
    );
    const { outHeight: oh, outWidth: ow } = info;
    const out = new Uint8Array(n * oh * ow * c);
    for (let b = 0; b < n; b++)
      for (let i = 0; i < oh; i++)
        for (let j = 0; j < ow; j++)
          for (let ch = 0; ch < c; ch++) {
            let best = -1;
            for (let a = 0; a < pool[0]; a++) {
              const y = i * strides[0] - info.padInfo.top + a;
              if (y < 0 || y >= h) continue;
              for (let d = 0; d < pool[1]; d++) {
                const xx = j * strides[1] - info.padInfo.left + d;
                if (xx < 0 || xx >= w) continue;
                const v = x.data[((b * h + y) * w + xx) * c + ch] as number;
                if (v > best) best = v;
              }
            }
            out[((b * oh + i) * ow + j) * c + ch] = best;
          }
    return { data: out, shape: [n, oh, ow, c] };
  }

  private add(layer: QuantizedLayer, inputs: IntegerTensor[]): IntegerTensor {
    const y = single(this.tensor(layer.output), layer.output);
    const out = new Uint8Array((inputs[0] as IntegerTensor).data.length);
    const params = layer.inputs.map((n) => single(this.tensor(n), n));
    for (let i = 0; i < out.length; i++) {
      let real = 0;
      for (const [k, t] of inputs.entries()) {
        const p = params[k] as { scale: number; zeroPoint: number };
        real += ((t.data[i] as number) - p.zeroPoint) * p.scale;
      }
      const q = roundHalfToEven(real / y.scale) + y.zeroPoint;
      out[i] = q < 0 ? 0 : q > 255 ? 255 : q;
    }
    return { data: out, shape: [...(inputs[0] as IntegerTensor).shape] };
  }
}
