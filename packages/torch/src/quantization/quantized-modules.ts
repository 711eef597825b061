import { conv2dInt8, gemmInt8, type QParams, quantize, ZeropointError } from "@zeropoint/core";
import type { Tensor } from "../autograd/tensor.js";
import type { BatchNorm2d, Conv2d, Linear } from "../nn/layers.js";
import { Module } from "../nn/module.js";
import { expectQuantized, QuantizedTensor } from "./quantized-tensor.js";

const f32 = Math.fround;

/** Half-to-even rounding of a float32 (`lrintf` / `_mm256_cvtps_epi32` in the default mode). */
function rint(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Quantization of one weight tensor: int8 values and per-output-channel scales (zero points 0 or given). */
interface QuantizedWeight {
  readonly int: Int8Array;
  readonly scale: Float32Array;
  readonly zeroPoint: Int32Array;
}

function quantizeWeight(weight: Tensor, qparams: QParams): QuantizedWeight {
  const channels = weight.shape[0] as number;
  const perChannel = qparams.scale.length > 1;
  const scale = new Float32Array(channels);
  const zeroPoint = new Int32Array(channels);
  for (let c = 0; c < channels; c++) {
    scale[c] = qparams.scale[perChannel ? c : 0] as number;
    zeroPoint[c] = qparams.zeroPoint[perChannel ? c : 0] as number;
  }
  // PyTorch multiplies by the float32 reciprocal of each scale and rounds half to even.
  const int = quantize(weight.data, qparams, { convention: "pytorch", shape: weight.shape }) as Int8Array;
  return { int, scale, zeroPoint };
}

/**
 * fbgemm's output stage (`ReQuantizeOutput` with a float bias), per output channel `c`, all in
 * float32: `raw = acc + bias/(sx*sw)`, `q = rint(raw * ((sx*sw)/sy)) + zy`, clamped to 0..255 or,
 * with a fused ReLU, to zy..255. Reproducing this order is what makes the outputs equal PyTorch's
 * integers rather than off by one on ties.
 */
function requantize(
  acc: Int32Array,
  channels: number,
  inner: number,
  inputScale: number,
  weight: QuantizedWeight,
  bias: Float32Array | undefined,
  outScale: number,
  outZeroPoint: number,
  reluFused: boolean,
): Uint8Array {
  const out = new Uint8Array(acc.length);
  const lo = reluFused ? outZeroPoint : 0;
  const sy = f32(outScale);
  const outer = acc.length / (channels * inner);
  for (let c = 0; c < channels; c++) {
    const actTimesW = f32(f32(inputScale) * (weight.scale[c] as number));
    const multiplier = f32(actTimesW / sy);
    const b = bias ? f32((bias[c] as number) / actTimesW) : 0;
    for (let o = 0; o < outer; o++) {
      const base = (o * channels + c) * inner;
      for (let i = base; i < base + inner; i++) {
        const raw = f32((acc[i] as number) + b);
        let q = rint(f32(raw * multiplier)) + outZeroPoint;
        if (q < lo) q = lo;
        else if (q > 255) q = 255;
        out[i] = q;
      }
    }
  }
  return out;
}

/**
 * `torch.ao.nn.quantized.Conv2d` / `ConvReLU2d` on the x86/fbgemm engine: quint8 NCHW input,
 * int8 weights (per channel), int32 accumulation, float bias folded in at requantization.
 */
export class QuantizedConv2d extends Module {
  readonly weight: QuantizedWeight;
  readonly bias: Float32Array | undefined;
  private readonly geometry: Conv2d;
  constructor(
    conv: Conv2d,
    weightQParams: QParams,
    readonly scale: number,
    readonly zeroPoint: number,
    readonly reluFused: boolean,
  ) {
    super();
    this.geometry = conv;
    this.weight = quantizeWeight(conv.weight, weightQParams);
    this.bias = conv.bias ? Float32Array.from(conv.bias.data) : undefined;
  }
  forward(input: Tensor): Tensor {
    const x = expectQuantized(input, this.reluFused ? "QuantizedConvReLU2d" : "QuantizedConv2d");
    const c = this.geometry;
    const [ph, pw] = c.padding;
    const { output, shape } = conv2dInt8({
      input: x.intData,
      inputShape: x.shape as [number, number, number, number],
      inputZeroPoint: x.zeroPoint,
      weight: this.weight.int,
      weightShape: c.weight.shape as [number, number, number, number],
      weightZeroPoint: this.weight.zeroPoint,
      strides: c.stride,
      pads: [ph, pw, ph, pw],
      dilations: c.dilation,
      group: c.groups,
    });
    const q = requantize(
      output,
      shape[1],
      shape[2] * shape[3],
      x.scale,
      this.weight,
      this.bias,
      this.scale,
      this.zeroPoint,
      this.reluFused,
    );
    return new QuantizedTensor(q, shape, this.scale, this.zeroPoint);
  }
}

/** `torch.ao.nn.quantized.Linear` / `LinearReLU` on the x86/fbgemm engine. */
export class QuantizedLinear extends Module {
  readonly weight: QuantizedWeight;
  readonly bias: Float32Array | undefined;
  readonly inFeatures: number;
  readonly outFeatures: number;
  private readonly weightT: Int8Array;
  constructor(
    linear: Linear,
    weightQParams: QParams,
    readonly scale: number,
    readonly zeroPoint: number,
    readonly reluFused: boolean,
  ) {
    super();
    this.inFeatures = linear.inFeatures;
    this.outFeatures = linear.outFeatures;
    this.weight = quantizeWeight(linear.weight, weightQParams);
    this.bias = linear.bias ? Float32Array.from(linear.bias.data) : undefined;
    const [out, inp] = [this.outFeatures, this.inFeatures];
    this.weightT = new Int8Array(out * inp);
    for (let o = 0; o < out; o++)
      for (let i = 0; i < inp; i++) this.weightT[i * out + o] = this.weight.int[o * inp + i] as number;
  }
  forward(input: Tensor): Tensor {
    const name = this.reluFused ? "QuantizedLinearReLU" : "QuantizedLinear";
    const x = expectQuantized(input, name);
    if (x.shape.length !== 2 || x.shape[1] !== this.inFeatures) {
      throw new ZeropointError(
        "invalid-shape",
        `${name} expects [batch, ${this.inFeatures}], got [${x.shape.join(", ")}]`,
      );
    }
    const n = x.shape[0] as number;
    const acc = gemmInt8({
      a: x.intData,
      b: this.weightT,
      m: n,
      k: this.inFeatures,
      n: this.outFeatures,
      aZeroPoint: x.zeroPoint,
      bZeroPoint: this.weight.zeroPoint,
    });
    const q = requantize(
      acc,
      this.outFeatures,
      1,
      x.scale,
      this.weight,
      this.bias,
      this.scale,
      this.zeroPoint,
      this.reluFused,
    );
    return new QuantizedTensor(q, [n, this.outFeatures], this.scale, this.zeroPoint);
  }
}

/**
 * `torch.ao.nn.quantized.BatchNorm2d` / `BNReLU2d`: per channel `q = rint(alpha (x - zx) + beta) + zy`
 * with PyTorch's fused parameters (`compute_fused_params`): `alpha = gamma / sqrt(var + eps) * (sx / sy)`
 * and `beta = (bias - mean * gamma / sqrt(var + eps)) / sy`, both rounded to float32.
 */
export class QuantizedBatchNorm2d extends Module {
  readonly alpha: Float32Array;
  readonly beta: Float32Array;
  private inputScale: number | undefined;
  constructor(
    private readonly bn: BatchNorm2d,
    readonly scale: number,
    readonly zeroPoint: number,
    readonly reluFused: boolean,
  ) {
    super();
    this.alpha = new Float32Array(bn.numFeatures);
    this.beta = new Float32Array(bn.numFeatures);
  }
  private fuse(inputScale: number): void {
    // The parameters depend on the input scale, known only at the first call (as in PyTorch).
    const bn = this.bn;
    for (let c = 0; c < bn.numFeatures; c++) {
      const invSigma = f32(1 / f32(Math.sqrt(f32((bn.runningVar.data[c] as number) + f32(bn.eps)))));
      const gamma = bn.weight.data[c] as number;
      this.alpha[c] = f32(f32(invSigma * gamma) * (inputScale / this.scale));
      const shift = f32(f32((bn.runningMean.data[c] as number) * invSigma) * gamma);
      this.beta[c] = f32(f32((bn.bias.data[c] as number) - shift) / this.scale);
    }
    this.inputScale = inputScale;
  }
  forward(input: Tensor): Tensor {
    const x = expectQuantized(input, this.reluFused ? "QuantizedBNReLU2d" : "QuantizedBatchNorm2d");
    const channels = this.bn.numFeatures;
    if (x.shape.length !== 4 || x.shape[1] !== channels) {
      throw new ZeropointError(
        "invalid-shape",
        `QuantizedBatchNorm2d expects [N, ${channels}, H, W], got [${x.shape.join(", ")}]`,
      );
    }
    if (this.inputScale !== x.scale) this.fuse(x.scale);
    const inner = (x.shape[2] as number) * (x.shape[3] as number);
    const out = new Uint8Array(x.size);
    const lo = this.reluFused ? this.zeroPoint : 0;
    for (let i = 0; i < x.size; i++) {
      const c = Math.floor(i / inner) % channels;
      let q =
        rint(
          f32(f32((this.alpha[c] as number) * ((x.intData[i] as number) - x.zeroPoint)) + (this.beta[c] as number)),
        ) + this.zeroPoint;
      if (q < lo) q = lo;
      else if (q > 255) q = 255;
      out[i] = q;
    }
    return new QuantizedTensor(out, x.shape, this.scale, this.zeroPoint);
  }
}
