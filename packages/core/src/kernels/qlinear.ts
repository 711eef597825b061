import { ZeropointError } from "../errors/zeropoint-error.js";
import { type Conv2dGeometry, conv2dInt8 } from "./conv2d.js";
import { gemmInt8, type Int8Like } from "./gemm.js";
import { requantizeFloat } from "./requantize.js";

const f32 = Math.fround;

/** Quantized operand: values, one scale and one zero point (per-tensor). */
export interface QTensor {
  readonly data: Int8Like;
  readonly scale: number;
  readonly zeroPoint: number;
}

function allocateLike(signed: boolean, length: number): Int8Array | Uint8Array {
  return signed ? new Int8Array(length) : new Uint8Array(length);
}

/**
 * ONNX `QLinearMatMul` for 2-D operands: int32 GEMM, then requantization with the float multiplier
 * `a_scale * b_scale / y_scale` (float32), ties to even.
 */
export function qlinearMatMul(
  a: QTensor,
  b: QTensor,
  m: number,
  k: number,
  n: number,
  y: { scale: number; zeroPoint: number; signed: boolean },
): Int8Array | Uint8Array {
  const acc = gemmInt8({ a: a.data, b: b.data, m, k, n, aZeroPoint: a.zeroPoint, bZeroPoint: b.zeroPoint });
  const out = allocateLike(y.signed, m * n);
  const multiplier = f32(f32(f32(a.scale) * f32(b.scale)) / f32(y.scale));
  requantizeFloat(
    acc,
    multiplier,
    { zeroPoint: y.zeroPoint, qmin: y.signed ? -128 : 0, qmax: y.signed ? 127 : 255 },
    out,
  );
  return out;
}

/** Arguments of {@link qlinearConv}. */
export interface QLinearConvArgs extends Conv2dGeometry {
  readonly input: QTensor;
  readonly inputShape: readonly [number, number, number, number];
  /** Weight with per-tensor or per-output-channel scales and zero points. */
  readonly weight: { data: Int8Like; scale: number | Float32Array; zeroPoint: number | Int32Array };
  readonly weightShape: readonly [number, number, number, number];
  readonly bias?: Int32Array;
  readonly output: { scale: number; zeroPoint: number; signed: boolean };
}

/** ONNX `QLinearConv` (NCHW): int32 convolution + bias, then per-channel float requantization. */
export function qlinearConv(args: QLinearConvArgs): {
  output: Int8Array | Uint8Array;
  shape: [number, number, number, number];
} {
  const { output: acc, shape } = conv2dInt8({
    input: args.input.data,
    inputShape: args.inputShape,
    inputZeroPoint: args.input.zeroPoint,
    weight: args.weight.data,
    weightShape: args.weightShape,
    weightZeroPoint: args.weight.zeroPoint,
    ...(args.bias !== undefined ? { bias: args.bias } : {}),
    ...(args.strides !== undefined ? { strides: args.strides } : {}),
    ...(args.pads !== undefined ? { pads: args.pads } : {}),
    ...(args.dilations !== undefined ? { dilations: args.dilations } : {}),
    ...(args.group !== undefined ? { group: args.group } : {}),
  });
  const m = shape[1];
  const positions = shape[2] * shape[3];
  const ws = args.weight.scale;
  if (typeof ws !== "number" && ws.length !== m) {
    throw new ZeropointError("shape-mismatch", `per-channel weight scale must have ${m} entries`);
  }
  const multipliers = new Float32Array(m);
  for (let c = 0; c < m; c++) {
    const wScale = typeof ws === "number" ? ws : (ws[c] as number);
    multipliers[c] = f32(f32(f32(args.input.scale) * f32(wScale)) / f32(args.output.scale));
  }
  const out = allocateLike(args.output.signed, acc.length);
  const y = args.output;
  requantizeFloat(
    acc,
    multipliers,
    { zeroPoint: y.zeroPoint, qmin: y.signed ? -128 : 0, qmax: y.signed ? 127 : 255 },
    out,
    positions,
  );
  return { output: out, shape };
}
