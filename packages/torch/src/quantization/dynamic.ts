import { chooseQuantizationParams, createObserver, gemmInt8, quantize, ZeropointError } from "@zeropoint/core";
import { Tensor } from "../autograd/tensor.js";
import { Linear } from "../nn/layers.js";
import { Module } from "../nn/module.js";

/** Quantized engine: x86/fbgemm reduce activations to 7 bits (0..127), qnnpack uses 0..255. */
export type QuantizedEngine = "x86" | "fbgemm" | "qnnpack";

/**
 * `torch.ao.nn.quantized.dynamic.Linear`: int8 weights (per-tensor symmetric, PyTorch's
 * `default_weight_observer`), activations quantized on every call to quint8 over
 * `[min(x, 0), max(x, 0)]` with fbgemm's ChooseQuantizationParams, an int32 GEMM, then
 * `acc * (x_scale * w_scale) + bias` in float.
 */
export class DynamicQuantizedLinear extends Module {
  /** int8 weights, [out, in]. */
  readonly weightInt: Int8Array;
  readonly weightScale: number;
  readonly weightZeroPoint: number;
  private readonly weightT: Int8Array;
  private readonly bias: Float32Array | undefined;

  constructor(
    linear: Linear,
    readonly engine: QuantizedEngine = "x86",
  ) {
    super();
    const observer = createObserver("minmax", { dtype: "int8", symmetric: true });
    observer.observe(linear.weight.data);
    const qp = observer.qparams();
    this.weightScale = qp.scale[0] as number;
    this.weightZeroPoint = qp.zeroPoint[0] as number;
    // PyTorch multiplies by the float32 reciprocal of the scale and rounds half to even.
    this.weightInt = quantize(linear.weight.data, qp, { convention: "pytorch" }) as Int8Array;
    const [out, inp] = [linear.outFeatures, linear.inFeatures];
    this.weightT = new Int8Array(out * inp);
    for (let o = 0; o < out; o++)
      for (let i = 0; i < inp; i++) this.weightT[i * out + o] = this.weightInt[o * inp + i] as number;
    this.bias = linear.bias ? Float32Array.from(linear.bias.data) : undefined;
    this.inFeatures = inp;
    this.outFeatures = out;
  }

  readonly inFeatures: number;
  readonly outFeatures: number;

  forward(x: Tensor): Tensor {
    if (x.shape.length !== 2 || x.shape[1] !== this.inFeatures) {
      throw new ZeropointError(
        "invalid-shape",
        `dynamic quantized Linear expects [batch, ${this.inFeatures}], got [${x.shape.join(", ")}]`,
      );
    }
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < x.size; i++) {
      const v = x.data[i] as number;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (!Number.isFinite(lo) || !Number.isFinite(hi))
      throw new ZeropointError("non-finite-data", "dynamic quantized Linear: input is empty or not finite");
    const { scale, zeroPoint } = chooseQuantizationParams(lo, hi, 0, 255, { reduceRange: this.engine !== "qnnpack" });
    const xq = quantize(
      x.data,
      { scale: Float32Array.of(scale), zeroPoint: Int32Array.of(zeroPoint), dtype: "uint8", qmin: 0, qmax: 255 },
      { convention: "pytorch" },
    ) as Uint8Array;
    const n = x.shape[0] as number;
    const acc = gemmInt8({
      a: xq,
      b: this.weightT,
      m: n,
      k: this.inFeatures,
      n: this.outFeatures,
      aZeroPoint: zeroPoint,
      bZeroPoint: this.weightZeroPoint,
    });
    const factor = Math.fround(scale * this.weightScale);
    const out = new Float32Array(acc.length);
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < this.outFeatures; c++) {
        const i = r * this.outFeatures + c;
        out[i] = Math.fround((acc[i] as number) * factor) + (this.bias ? (this.bias[c] as number) : 0);
      }
    }
    return new Tensor(out, [n, this.outFeatures]);
  }
}

/**
 * `torch.ao.quantization.quantize_dynamic(model, {Linear}, qint8)`: replaces every Linear (in place)
 * with a {@link DynamicQuantizedLinear}; other modules stay float. Returns the model.
 */
export function quantizeDynamic<M extends Module>(
  model: M,
  types: readonly (typeof Linear)[] = [Linear],
  engine: QuantizedEngine = "x86",
): M {
  if (types.some((t) => t !== Linear))
    throw new ZeropointError("unsupported-op", "dynamic quantization supports Linear modules");
  const replace = (parent: Module) => {
    for (const [name, child] of parent.namedChildren()) {
      if (child instanceof Linear) parent.registerModule(name, new DynamicQuantizedLinear(child, engine));
      else replace(child);
    }
  };
  replace(model);
  return model;
}
