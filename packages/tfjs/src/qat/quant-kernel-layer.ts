import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { ZeropointError } from "@zeropoint/core";
import { fakeQuant } from "../fake-quant/fake-quant-op.js";
import { kernelQParams, type WeightQuantConfig } from "../static/weight-scheme.js";

/** Config of {@link QuantKernelLayer} (camelCase, as tfjs passes it to constructors). */
export interface QuantKernelLayerArgs {
  readonly name?: string;
  readonly trainable?: boolean;
  /** The float layer's class: `Conv2D`, `DepthwiseConv2D` or `Dense`. */
  readonly wrappedClass: string;
  /** The float layer's own config, kept to restore it at conversion. */
  readonly wrappedConfig: Record<string, unknown>;
  readonly weightQuant?: WeightQuantConfig;
}

type Activation = (x: tf.Tensor) => tf.Tensor;

const ACTIVATIONS: Record<string, Activation> = {
  linear: (x) => x,
  relu: (x) => tf.relu(x),
  relu6: (x) => tf.relu6(x),
  sigmoid: (x) => tf.sigmoid(x),
  tanh: (x) => tf.tanh(x),
  softmax: (x) => tf.softmax(x),
};

function pair(value: unknown, fallback: number): [number, number] {
  if (Array.isArray(value)) return [value[0] as number, (value[1] ?? value[0]) as number];
  if (typeof value === "number") return [value, value];
  return [fallback, fallback];
}

/**
 * A Conv2D / DepthwiseConv2D / Dense whose kernel is fake-quantized on every forward pass (TFMOT's
 * `QuantizeWrapper` with `LastValueQuantizer`): qparams from the current kernel's min/max (per
 * channel for convolutions), core fake-quant in the `tflite` convention, straight-through gradient
 * to the float kernel. The float kernel and bias are ordinary trainable weights with the wrapped
 * layer's names, so `convertQat` can restore the float layer and quantize it for good.
 */
export class QuantKernelLayer extends tfl.layers.Layer {
  static readonly className = "ZeropointQuantKernel";
  readonly wrappedClass: string;
  readonly wrappedConfig: Record<string, unknown>;
  readonly weightQuant: WeightQuantConfig;
  private kernel: tfl.LayerVariable | undefined;
  private bias: tfl.LayerVariable | undefined;
  private readonly activationFn: Activation;

  constructor(args: QuantKernelLayerArgs) {
    super({ ...(args.name !== undefined ? { name: args.name } : {}), trainable: args.trainable ?? true });
    if (!["Conv2D", "DepthwiseConv2D", "Dense"].includes(args.wrappedClass)) {
      throw new ZeropointError("unsupported-op", `QuantKernelLayer cannot wrap ${args.wrappedClass}`);
    }
    this.wrappedClass = args.wrappedClass;
    this.wrappedConfig = args.wrappedConfig;
    this.weightQuant = args.weightQuant ?? {};
    const activation = (this.wrappedConfig.activation as string | undefined) ?? "linear";
    const fn = ACTIVATIONS[activation];
    if (fn === undefined)
      throw new ZeropointError(
        "unsupported-op",
        `layer ${this.name}: activation ${activation} is not supported in QAT`,
      );
    this.activationFn = fn;
    if (this.wrappedConfig.dataFormat !== undefined && this.wrappedConfig.dataFormat !== "channelsLast") {
      throw new ZeropointError("unsupported-op", `layer ${this.name}: only channels_last is supported`);
    }
  }

  private useBias(): boolean {
    return this.wrappedConfig.useBias !== false;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const inChannels = shape[shape.length - 1] as number;
    let kernelShape: number[];
    let outChannels: number;
    if (this.wrappedClass === "Dense") {
      outChannels = this.wrappedConfig.units as number;
      kernelShape = [inChannels, outChannels];
    } else {
      const [kh, kw] = pair(this.wrappedConfig.kernelSize, 1);
      if (this.wrappedClass === "DepthwiseConv2D") {
        const mult = (this.wrappedConfig.depthMultiplier as number | undefined) ?? 1;
        kernelShape = [kh, kw, inChannels, mult];
        outChannels = inChannels * mult;
      } else {
        outChannels = this.wrappedConfig.filters as number;
        kernelShape = [kh, kw, inChannels, outChannels];
      }
    }
    const name = this.wrappedClass === "DepthwiseConv2D" ? "depthwise_kernel" : "kernel";
    this.kernel = this.addWeight(name, kernelShape, "float32", tfl.initializers.glorotUniform({}), undefined, true);
    if (this.useBias())
      this.bias = this.addWeight("bias", [outChannels], "float32", tfl.initializers.zeros(), undefined, true);
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    if (this.wrappedClass === "Dense") return [...shape.slice(0, -1), this.wrappedConfig.units as number];
    const [n, h, w, c] = shape as [number | null, number, number, number];
    const [kh, kw] = pair(this.wrappedConfig.kernelSize, 1);
    const depthwise = this.wrappedClass === "DepthwiseConv2D";
    const mult = (this.wrappedConfig.depthMultiplier as number | undefined) ?? 1;
    const info = tf.backend_util.computeConv2DInfo(
      [1, h, w, c],
      [kh, kw, c, depthwise ? mult : (this.wrappedConfig.filters as number)],
      pair(this.wrappedConfig.strides, 1),
      pair(this.wrappedConfig.dilationRate, 1),
      this.wrappedConfig.padding as "same" | "valid",
      undefined,
      depthwise,
    );
    return [n, info.outHeight, info.outWidth, info.outChannels];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? (inputs[0] as tf.Tensor) : inputs;
    const kernel = (this.kernel as tfl.LayerVariable).read();
    const { qparams, view } = kernelQParams(
      this.wrappedClass,
      kernel.dataSync() as Float32Array,
      kernel.shape,
      this.weightQuant,
    );
    // Per-channel qparams refer to the channels-last view (depthwise: [kh·kw, ci·mult]).
    const fq = tf.reshape(fakeQuant(tf.reshape(kernel, view), qparams), kernel.shape);
    let y: tf.Tensor;
    if (this.wrappedClass === "Dense") {
      if (x.rank !== 2)
        throw new ZeropointError("unsupported-op", `layer ${this.name}: QAT Dense needs a rank-2 input`);
      y = tf.matMul(x as tf.Tensor2D, fq as tf.Tensor2D);
    } else {
      const conv = this.wrappedClass === "DepthwiseConv2D" ? tf.depthwiseConv2d : tf.conv2d;
      y = conv(
        x as tf.Tensor4D,
        fq as tf.Tensor4D,
        pair(this.wrappedConfig.strides, 1),
        this.wrappedConfig.padding as "same" | "valid",
        "NHWC",
        pair(this.wrappedConfig.dilationRate, 1),
      );
    }
    if (this.bias !== undefined) y = tf.add(y, this.bias.read());
    return this.activationFn(y);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      wrappedClass: this.wrappedClass,
      wrappedConfig: this.wrappedConfig as tf.serialization.ConfigDict,
      weightQuant: { ...this.weightQuant } as tf.serialization.ConfigDict,
    };
  }
}
tf.serialization.registerClass(QuantKernelLayer);
