import { ZeropointError } from "@zeropoint/core";
import { Tensor } from "../autograd/tensor.js";

/**
 * A per-tensor affine quint8 tensor (PyTorch's `torch.quint8` with `per_tensor_affine`): the
 * integers are the value; `data` holds `(q - zeroPoint) * scale` in float32 so float-only code
 * (printing, metrics) can still read it. Quantized modules read `intData`; max pooling, flatten and
 * ReLU keep a quantized tensor quantized, exactly as PyTorch's quantized kernels do.
 */
export class QuantizedTensor extends Tensor {
  constructor(
    readonly intData: Uint8Array,
    shape: readonly number[],
    readonly scale: number,
    readonly zeroPoint: number,
  ) {
    super(dequantizeUint8(intData, scale, zeroPoint), shape);
  }

  /** The float tensor (PyTorch's `.dequantize()`), a copy without the integer view. */
  dequantize(): Tensor {
    return new Tensor(Float32Array.from(this.data), this.shape);
  }
}

function dequantizeUint8(q: Uint8Array, scale: number, zeroPoint: number): Float32Array {
  const out = new Float32Array(q.length);
  const s = Math.fround(scale);
  for (let i = 0; i < q.length; i++) out[i] = Math.fround(((q[i] as number) - zeroPoint) * s);
  return out;
}

/** Throws `invalid-argument` unless `x` is a {@link QuantizedTensor}; `what` names the module. */
export function expectQuantized(x: Tensor, what: string): QuantizedTensor {
  if (!(x instanceof QuantizedTensor)) {
    throw new ZeropointError(
      "invalid-argument",
      `${what} expects a quantized tensor; put a QuantStub (or Quantize) before it, as in PyTorch eager mode`,
    );
  }
  return x;
}
