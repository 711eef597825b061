import { conv2d } from "../autograd/conv.js";
import { add, linear, mul, relu, reshape } from "../autograd/ops.js";
import { result, Tensor } from "../autograd/tensor.js";
import type { BatchNorm2d, Conv2d, Linear } from "../nn/layers.js";
import { Module } from "../nn/module.js";
import { FakeQuantize } from "./fake-quantize.js";
import type { QConfig } from "./qconfig.js";

function convGeometry(conv: Conv2d) {
  const [ph, pw] = conv.padding;
  return {
    strides: conv.stride,
    pads: [ph, pw, ph, pw] as [number, number, number, number],
    dilations: conv.dilation,
    group: conv.groups,
  };
}

/** `torch.ao.nn.qat.Linear` (and `LinearReLU`): the weight passes a fake quantizer on every call. */
export class QatLinear extends Module {
  readonly weightFakeQuant: FakeQuantize;
  constructor(
    readonly linear: Linear,
    qconfig: QConfig,
    readonly reluFused: boolean,
  ) {
    super();
    this.registerModule("0", linear);
    this.weightFakeQuant = this.registerModule("weight_fake_quant", new FakeQuantize(qconfig.weight()));
  }
  forward(x: Tensor): Tensor {
    const y = linear(x, this.weightFakeQuant.call(this.linear.weight), this.linear.bias);
    return this.reluFused ? relu(y) : y;
  }
}

/** `torch.ao.nn.qat.Conv2d` (and `ConvReLU2d`): the weight passes a fake quantizer on every call. */
export class QatConv2d extends Module {
  readonly weightFakeQuant: FakeQuantize;
  constructor(
    readonly conv: Conv2d,
    qconfig: QConfig,
    readonly reluFused: boolean,
  ) {
    super();
    this.registerModule("0", conv);
    this.weightFakeQuant = this.registerModule("weight_fake_quant", new FakeQuantize(qconfig.weight()));
  }
  forward(x: Tensor): Tensor {
    const y = conv2d(x, this.weightFakeQuant.call(this.conv.weight), this.conv.bias, convGeometry(this.conv));
    return this.reluFused ? relu(y) : y;
  }
}

/** Elementwise 1/x with its gradient −g/x². */
function reciprocal(x: Tensor): Tensor {
  const out = Float32Array.from(x.data, (v) => 1 / v);
  return result(out, x.shape, [x], "reciprocal", (g) => [Float32Array.from(g, (v, i) => -v * (out[i] as number) ** 2)]);
}

/**
 * `torch.ao.nn.intrinsic.qat.ConvBn2d` / `ConvBnReLU2d`: batch norm stays a live module during QAT
 * and is folded into the weight the fake quantizer sees, PyTorch's `_forward_approximate`:
 * `s = gamma / sqrt(running_var + eps)`, `y = conv(x, fq(w * s)) / s + b`, then BN (batch statistics
 * while training, running ones once frozen or in eval), then ReLU. So training sees the weights the
 * converted model will use, while BN keeps normalizing with real batch statistics.
 */
export class QatConvBn2d extends Module {
  readonly weightFakeQuant: FakeQuantize;
  /** After {@link freezeBnStats}, BN uses and keeps its running statistics. */
  bnFrozen = false;
  constructor(
    readonly conv: Conv2d,
    readonly bn: BatchNorm2d,
    qconfig: QConfig,
    readonly reluFused: boolean,
  ) {
    super();
    this.registerModule("0", conv);
    this.registerModule("1", bn);
    this.weightFakeQuant = this.registerModule("weight_fake_quant", new FakeQuantize(qconfig.weight()));
  }
  forward(x: Tensor): Tensor {
    const channels = this.conv.outChannels;
    const std = Float32Array.from(this.bn.runningVar.data, (v) => Math.fround(Math.sqrt(v + this.bn.eps)));
    const invStd = new Tensor(
      Float32Array.from(std, (v) => 1 / v),
      [channels],
    );
    const scaleFactor = mul(this.bn.weight, invStd);
    const scaledWeight = mul(this.conv.weight, reshape(scaleFactor, [channels, 1, 1, 1]));
    const y = conv2d(x, this.weightFakeQuant.call(scaledWeight), undefined, convGeometry(this.conv));
    let orig = mul(y, reshape(reciprocal(scaleFactor), [1, channels, 1, 1]));
    if (this.conv.bias) orig = add(orig, reshape(this.conv.bias, [1, channels, 1, 1]));
    this.bn.training = this.training && !this.bnFrozen;
    const out = this.bn.call(orig);
    return this.reluFused ? relu(out) : out;
  }
}

/** Freezes batch-norm statistics of every {@link QatConvBn2d} in `model` (PyTorch's `freeze_bn_stats`). */
export function freezeBnStats(model: Module): void {
  for (const [, m] of model.namedModules()) if (m instanceof QatConvBn2d) m.bnFrozen = true;
}
