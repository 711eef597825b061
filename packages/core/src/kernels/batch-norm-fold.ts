import { ZeropointError } from "../errors/zeropoint-error.js";

/** Arguments of {@link foldBatchNorm}. */
export interface BatchNormFoldArgs {
  /** The convolution (or dense) weight; its output channels are `mean.length`. */
  readonly weight: ArrayLike<number>;
  readonly bias?: ArrayLike<number>;
  /** BatchNorm scale (1 when absent, as Keras' `scale: false`). */
  readonly gamma?: ArrayLike<number>;
  /** BatchNorm shift (0 when absent, as Keras' `center: false`). */
  readonly beta?: ArrayLike<number>;
  readonly mean: ArrayLike<number>;
  readonly variance: ArrayLike<number>;
  readonly epsilon: number;
  /**
   * Where the output channel lies in `weight`: `channels-first` (ONNX and PyTorch `[M, ...]`,
   * each channel a contiguous block) or `channels-last` (tfjs `[kh, kw, in, out]`, and a depthwise
   * kernel's `in × multiplier`: the channel is the index modulo the channel count).
   */
  readonly layout: "channels-first" | "channels-last";
  /**
   * `pytorch-float32`: every step rounded to float32 in `fuse_conv_bn_weights`' order
   * (`rsqrt = 1/sqrt(var + eps)`, `w·(γ·rsqrt)`, `((b − μ)·rsqrt)·γ + β`), so int8 weights quantized
   * from the result equal PyTorch's bit for bit. `float64`: `γ/sqrt(var + eps)` and the bias in
   * double, rounded once to float32 (onnxruntime's and TFLite's converters fold in double).
   */
  readonly arithmetic: "pytorch-float32" | "float64";
}

/**
 * Folds an inference-mode BatchNorm into the preceding layer's weight and bias: the one kernel the
 * ONNX preprocessor, tfjs's static quantizer and torch's `fuseModules` call, each with the
 * arithmetic its reference uses.
 */
export function foldBatchNorm(args: BatchNormFoldArgs): { weight: Float32Array; bias: Float32Array } {
  const channels = args.mean.length;
  const { weight, bias, gamma, beta, mean, variance, epsilon } = args;
  if (channels === 0 || weight.length % channels !== 0)
    throw new ZeropointError(
      "shape-mismatch",
      `a weight of ${weight.length} values has no ${channels} output channels`,
    );
  for (const [name, v] of [
    ["variance", variance],
    ["gamma", gamma],
    ["beta", beta],
    ["bias", bias],
  ] as const) {
    if (v !== undefined && v.length !== channels)
      throw new ZeropointError("shape-mismatch", `BatchNorm ${name} has ${v.length} entries, not ${channels}`);
  }
  const factor = new Float64Array(channels);
  const newBias = new Float32Array(channels);
  const f = Math.fround;
  for (let c = 0; c < channels; c++) {
    const g = (gamma?.[c] ?? 1) as number;
    const centred = ((bias?.[c] ?? 0) as number) - (mean[c] as number);
    if (args.arithmetic === "pytorch-float32") {
      const rsqrt = f(1 / f(Math.sqrt(f((variance[c] as number) + f(epsilon)))));
      factor[c] = f(g * rsqrt);
      newBias[c] = f(f(f(f(centred) * rsqrt) * g) + ((beta?.[c] ?? 0) as number));
    } else {
      factor[c] = g / Math.sqrt((variance[c] as number) + epsilon);
      newBias[c] = centred * (factor[c] as number) + ((beta?.[c] ?? 0) as number);
    }
  }
  const out = new Float32Array(weight.length);
  if (args.layout === "channels-first") {
    const per = weight.length / channels;
    for (let c = 0; c < channels; c++)
      for (let i = c * per; i < (c + 1) * per; i++) out[i] = (weight[i] as number) * (factor[c] as number);
  } else {
    for (let i = 0; i < out.length; i++) out[i] = (weight[i] as number) * (factor[i % channels] as number);
  }
  return { weight: out, bias: newBias };
}
