import { quantize, ZeropointError } from "@zeropoint/core";
import type { Tensor } from "../autograd/tensor.js";
import { Module } from "../nn/module.js";
import { QuantizedTensor } from "./quantized-tensor.js";

/** Marks where float input becomes quantized (identity until `convert`), as PyTorch's `QuantStub`. */
export class QuantStub extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}

/** Marks where quantized values become float again (identity until `convert`): `DeQuantStub`. */
export class DeQuantStub extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}

/**
 * `torch.ao.nn.quantized.Quantize`: float to quint8 with `q = rint(x * (1/scale)) + zp` clamped to
 * 0..255 (PyTorch multiplies by the float32 reciprocal and rounds half to even).
 */
export class Quantize extends Module {
  constructor(
    readonly scale: number,
    readonly zeroPoint: number,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    if (x instanceof QuantizedTensor)
      throw new ZeropointError("invalid-argument", "Quantize: input is already quantized");
    for (let i = 0; i < x.size; i++) {
      if (!Number.isFinite(x.data[i] as number)) {
        throw new ZeropointError("non-finite-data", `Quantize: input element ${i} is ${x.data[i]}`);
      }
    }
    const q = quantize(
      x.data,
      {
        scale: Float32Array.of(this.scale),
        zeroPoint: Int32Array.of(this.zeroPoint),
        dtype: "uint8",
        qmin: 0,
        qmax: 255,
      },
      { convention: "pytorch" },
    ) as Uint8Array;
    return new QuantizedTensor(q, x.shape, this.scale, this.zeroPoint);
  }
}

/** `torch.ao.nn.quantized.DeQuantize`: quint8 back to float32 `(q - zp) * scale`. */
export class DeQuantize extends Module {
  forward(x: Tensor): Tensor {
    return x instanceof QuantizedTensor ? x.dequantize() : x;
  }
}

/**
 * `torch.ao.quantization.QuantWrapper`: `quant`, then the wrapped `module`, then `dequant`, so a
 * float model becomes quantizable end to end without editing it.
 */
export class QuantWrapper extends Module {
  readonly quant: QuantStub;
  readonly dequant: DeQuantStub;
  constructor(readonly module: Module) {
    super();
    this.quant = this.registerModule("quant", new QuantStub());
    this.registerModule("module", module);
    this.dequant = this.registerModule("dequant", new DeQuantStub());
  }
  forward(x: Tensor): Tensor {
    const children = new Map(this.namedChildren());
    const q = (children.get("quant") as Module).call(x);
    const y = (children.get("module") as Module).call(q);
    return (children.get("dequant") as Module).call(y);
  }
}
