import { ZeropointError } from "@zeropoint/core";
import { adaptiveAvgPool2d, avgPool2d, conv2d, maxPool2d } from "../autograd/conv.js";
import { batchNorm2d } from "../autograd/norm.js";
import { dropout, flatten, linear, relu, relu6 } from "../autograd/ops.js";
import { Tensor } from "../autograd/tensor.js";
import { QuantizedTensor } from "../quantization/quantized-tensor.js";
import { inModule, Module, parameter } from "./module.js";
import { defaultRandom, type Random } from "./random.js";

type Pair = number | readonly [number, number];
const pair = (v: Pair): [number, number] => (typeof v === "number" ? [v, v] : [v[0], v[1]]);

/** `y = x W^T + b` (torch.nn.Linear), initialised like PyTorch: U(-1/sqrt(in), 1/sqrt(in)). */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | undefined;
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: { bias?: boolean; random?: Random } = {},
  ) {
    super();
    const r = options.random ?? defaultRandom();
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = this.registerParameter(
      "weight",
      parameter([outFeatures, inFeatures], () => r.uniform(bound)),
    );
    this.bias =
      options.bias === false
        ? undefined
        : this.registerParameter(
            "bias",
            parameter([outFeatures], () => r.uniform(bound)),
          );
  }
  forward(x: Tensor): Tensor {
    if (x.shape.length !== 2)
      throw new ZeropointError(
        "invalid-shape",
        `Linear expects input [batch, ${this.inFeatures}], got rank ${x.shape.length}`,
      );
    return linear(x, this.weight, this.bias);
  }
}

/** torch.nn.Conv2d (NCHW), initialised like PyTorch (bound 1/sqrt(fan_in)). */
export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | undefined;
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Pair,
    options: { stride?: Pair; padding?: Pair; dilation?: Pair; groups?: number; bias?: boolean; random?: Random } = {},
  ) {
    super();
    const [kh, kw] = pair(kernelSize);
    this.stride = pair(options.stride ?? 1);
    this.padding = pair(options.padding ?? 0);
    this.dilation = pair(options.dilation ?? 1);
    this.groups = options.groups ?? 1;
    if (inChannels % this.groups !== 0 || outChannels % this.groups !== 0) {
      throw new ZeropointError(
        "invalid-argument",
        `Conv2d channels ${inChannels}->${outChannels} are not divisible by groups ${this.groups}`,
      );
    }
    const r = options.random ?? defaultRandom();
    const fanIn = (inChannels / this.groups) * kh * kw;
    const bound = 1 / Math.sqrt(fanIn);
    this.weight = this.registerParameter(
      "weight",
      parameter([outChannels, inChannels / this.groups, kh, kw], () => r.uniform(bound)),
    );
    this.bias =
      options.bias === false
        ? undefined
        : this.registerParameter(
            "bias",
            parameter([outChannels], () => r.uniform(bound)),
          );
  }
  forward(x: Tensor): Tensor {
    if (x.shape.length !== 4)
      throw new ZeropointError("invalid-shape", `Conv2d expects NCHW input, got rank ${x.shape.length}`);
    return conv2d(x, this.weight, this.bias, {
      strides: this.stride,
      pads: [this.padding[0], this.padding[1], this.padding[0], this.padding[1]],
      dilations: this.dilation,
      group: this.groups,
    });
  }
}

/** torch.nn.BatchNorm2d with running statistics (momentum 0.1, eps 1e-5). */
export class BatchNorm2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  readonly numBatchesTracked: Tensor;
  constructor(
    readonly numFeatures: number,
    readonly options: { eps?: number; momentum?: number } = {},
  ) {
    super();
    this.weight = this.registerParameter(
      "weight",
      parameter([numFeatures], () => 1),
    );
    this.bias = this.registerParameter(
      "bias",
      parameter([numFeatures], () => 0),
    );
    this.runningMean = this.registerBuffer("running_mean", Tensor.zeros([numFeatures]));
    this.runningVar = this.registerBuffer(
      "running_var",
      new Tensor(new Float32Array(numFeatures).fill(1), [numFeatures]),
    );
    this.numBatchesTracked = this.registerBuffer("num_batches_tracked", Tensor.zeros([]));
  }
  get eps(): number {
    return this.options.eps ?? 1e-5;
  }
  forward(x: Tensor): Tensor {
    if (this.training) this.numBatchesTracked.data[0] = (this.numBatchesTracked.data[0] as number) + 1;
    return batchNorm2d(
      x,
      this.weight,
      this.bias,
      {
        runningMean: this.runningMean.data,
        runningVar: this.runningVar.data,
        momentum: this.options.momentum ?? 0.1,
        eps: this.eps,
      },
      this.training,
    );
  }
}

/** torch.nn.ReLU. */
export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    if (x instanceof QuantizedTensor) {
      // Quantized ReLU clamps at the zero point: the integer that represents 0.0.
      const zp = x.zeroPoint;
      return new QuantizedTensor(
        x.intData.map((q) => (q < zp ? zp : q)),
        x.shape,
        x.scale,
        x.zeroPoint,
      );
    }
    return relu(x);
  }
}

/** torch.nn.ReLU6. */
export class ReLU6 extends Module {
  forward(x: Tensor): Tensor {
    return relu6(x);
  }
}

/** torch.nn.MaxPool2d (floor mode). */
export class MaxPool2d extends Module {
  constructor(
    readonly kernelSize: Pair,
    readonly stride?: Pair,
    readonly padding: Pair = 0,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    if (x instanceof QuantizedTensor) {
      // Max commutes with the monotone dequantization, so pooling the integers is exact and the
      // output keeps the input's scale and zero point (PyTorch's quantized max_pool2d).
      const pooled = maxPool2d(new Tensor(Float32Array.from(x.intData), x.shape), {
        kernel: pair(this.kernelSize),
        stride: pair(this.stride ?? this.kernelSize),
        padding: pair(this.padding),
      });
      return new QuantizedTensor(Uint8Array.from(pooled.data), pooled.shape, x.scale, x.zeroPoint);
    }
    return maxPool2d(x, {
      kernel: pair(this.kernelSize),
      stride: pair(this.stride ?? this.kernelSize),
      padding: pair(this.padding),
    });
  }
}

/** torch.nn.AvgPool2d (count_include_pad). */
export class AvgPool2d extends Module {
  constructor(
    readonly kernelSize: Pair,
    readonly stride?: Pair,
    readonly padding: Pair = 0,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return avgPool2d(x, {
      kernel: pair(this.kernelSize),
      stride: pair(this.stride ?? this.kernelSize),
      padding: pair(this.padding),
    });
  }
}

/** torch.nn.AdaptiveAvgPool2d. */
export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: Pair) {
    super();
  }
  forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, pair(this.outputSize));
  }
}

/** torch.nn.Flatten (from dim 1). */
export class Flatten extends Module {
  constructor(readonly startDim = 1) {
    super();
  }
  forward(x: Tensor): Tensor {
    if (x instanceof QuantizedTensor) {
      const shape = flatten(new Tensor(new Float32Array(x.size), x.shape), this.startDim).shape;
      return new QuantizedTensor(x.intData, shape, x.scale, x.zeroPoint);
    }
    return flatten(x, this.startDim);
  }
}

/** torch.nn.Dropout (identity in eval mode). */
export class Dropout extends Module {
  constructor(
    readonly p = 0.5,
    private readonly random: Random = defaultRandom(),
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training, () => this.random.next());
  }
}

/** torch.nn.Sequential: children run in order; named like PyTorch ("0", "1", ...) or by the given names. */
export class Sequential extends Module {
  constructor(...modules: (Module | [string, Module])[]) {
    super();
    modules.forEach((m, i) => {
      if (Array.isArray(m)) this.registerModule(m[0], m[1]);
      else this.registerModule(String(i), m);
    });
  }
  forward(x: Tensor): Tensor {
    let y = x;
    for (const [name, m] of this.namedChildren()) y = inModule(name, () => m.call(y));
    return y;
  }
}
