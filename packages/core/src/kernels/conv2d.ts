import { ZeropointError } from "../errors/zeropoint-error.js";
import { GEMM_BLOCK_K, type Int8Like, packColumnPairs, unpackPairsInto } from "./gemm.js";

/** Geometry of a 2-D convolution (ONNX attribute names). */
export interface Conv2dGeometry {
  /** `[sh, sw]`, default `[1, 1]`. */
  readonly strides?: readonly [number, number];
  /** `[top, left, bottom, right]`, default zeros. */
  readonly pads?: readonly [number, number, number, number];
  /** `[dh, dw]`, default `[1, 1]`. */
  readonly dilations?: readonly [number, number];
  /** Default 1. */
  readonly group?: number;
}

/** Arguments of {@link conv2dInt8}. */
export interface Conv2dInt8Args extends Conv2dGeometry {
  /** NCHW. */
  readonly input: Int8Like;
  readonly inputShape: readonly [number, number, number, number];
  readonly inputZeroPoint?: number;
  /** `[M, C/group, kH, kW]`. */
  readonly weight: Int8Like;
  readonly weightShape: readonly [number, number, number, number];
  /** One zero point, or one per output channel. */
  readonly weightZeroPoint?: number | Int32Array;
  /** int32 bias per output channel. */
  readonly bias?: Int32Array;
}

/** Output shape `[N, M, OH, OW]` of a convolution; throws `invalid-shape` when it would be empty. */
export function conv2dOutputShape(
  inputShape: readonly number[],
  weightShape: readonly number[],
  geometry: Conv2dGeometry,
): [number, number, number, number] {
  const [n, c, h, w] = inputShape as [number, number, number, number];
  const [m, cPerGroup, kh, kw] = weightShape as [number, number, number, number];
  const [sh, sw] = geometry.strides ?? [1, 1];
  const [pt, pl, pb, pr] = geometry.pads ?? [0, 0, 0, 0];
  const [dh, dw] = geometry.dilations ?? [1, 1];
  const group = geometry.group ?? 1;
  if (inputShape.length !== 4 || weightShape.length !== 4) {
    throw new ZeropointError("invalid-shape", "conv2d expects 4-D NCHW input and [M, C/group, kH, kW] weight");
  }
  if (!Number.isInteger(group) || group < 1 || c % group !== 0 || m % group !== 0 || cPerGroup * group !== c) {
    throw new ZeropointError(
      "shape-mismatch",
      `conv2d: input channels ${c}, weight [${weightShape.join(", ")}] and group ${group} do not fit together`,
    );
  }
  const oh = Math.floor((h + pt + pb - dh * (kh - 1) - 1) / sh) + 1;
  const ow = Math.floor((w + pl + pr - dw * (kw - 1) - 1) / sw) + 1;
  if (oh < 1 || ow < 1) throw new ZeropointError("invalid-shape", `conv2d output would be ${oh}x${ow}`);
  return [n, m, oh, ow];
}

/**
 * int8/uint8 2-D convolution, NCHW, int32 output `sum (x - zx)(w - zw) + bias` (ConvInteger /
 * the accumulation of QLinearConv). im2col into an int16 buffer of `x - zx` (padding contributes
 * exactly 0), then the same loop shape as the GEMM: `acc[p] += (w - zw) * col[r, p]`, with
 * output positions pair-packed as in {@link gemmInt8} (`x - zx` and `w - zw` stay within ±255).
 */
export function conv2dInt8(args: Conv2dInt8Args): { output: Int32Array; shape: [number, number, number, number] } {
  const shape = conv2dOutputShape(args.inputShape, args.weightShape, args);
  const [batch, m, oh, ow] = shape;
  const [, c, h, w] = args.inputShape;
  const [, cPerGroup, kh, kw] = args.weightShape;
  if (args.input.length !== batch * c * h * w)
    throw new ZeropointError("shape-mismatch", "conv2d input length does not match its shape");
  if (args.weight.length !== m * cPerGroup * kh * kw)
    throw new ZeropointError("shape-mismatch", "conv2d weight length does not match its shape");
  const [sh, sw] = args.strides ?? [1, 1];
  const [pt, pl] = args.pads ?? [0, 0, 0, 0];
  const [dh, dw] = args.dilations ?? [1, 1];
  const group = args.group ?? 1;
  const mPerGroup = m / group;
  const zx = args.inputZeroPoint ?? 0;
  const zw = args.weightZeroPoint ?? 0;
  if (typeof zw !== "number" && zw.length !== m) {
    throw new ZeropointError("shape-mismatch", `per-channel weight zero point must have ${m} entries`);
  }
  if (args.bias !== undefined && args.bias.length !== m)
    throw new ZeropointError("shape-mismatch", `bias must have ${m} entries`);
  const rows = cPerGroup * kh * kw;
  const positions = oh * ow;
  const col = new Int16Array(rows * positions);
  const pairs = (positions + 1) >> 1;
  const acc = new Float64Array(pairs);
  const output = new Int32Array(batch * m * positions);
  const input = args.input;
  const weight = args.weight;
  for (let b = 0; b < batch; b++) {
    for (let g = 0; g < group; g++) {
      // im2col for this image and group.
      for (let ci = 0; ci < cPerGroup; ci++) {
        const channelBase = (b * c + g * cPerGroup + ci) * h * w;
        for (let y = 0; y < kh; y++) {
          for (let x = 0; x < kw; x++) {
            const r = (ci * kh + y) * kw + x;
            const rowBase = r * positions;
            for (let oy = 0; oy < oh; oy++) {
              const iy = oy * sh - pt + y * dh;
              const outBase = rowBase + oy * ow;
              if (iy < 0 || iy >= h) {
                col.fill(0, outBase, outBase + ow);
                continue;
              }
              const inRow = channelBase + iy * w;
              for (let ox = 0; ox < ow; ox++) {
                const ix = ox * sw - pl + x * dw;
                col[outBase + ox] = ix < 0 || ix >= w ? 0 : (input[inRow + ix] as number) - zx;
              }
            }
          }
        }
      }
      // Pair-pack the columns (two output positions per float64, see packColumnPairs) so each
      // inner step does two multiply-adds; lanes are split every GEMM_BLOCK_K rows.
      const packed = packColumnPairs(col, rows, positions);
      for (let mi = 0; mi < mPerGroup; mi++) {
        const oc = g * mPerGroup + mi;
        const zwc = typeof zw === "number" ? zw : (zw[oc] as number);
        const outBase = (b * m + oc) * positions;
        const wBase = oc * rows;
        for (let r0 = 0; r0 < rows; r0 += GEMM_BLOCK_K) {
          const r1 = Math.min(r0 + GEMM_BLOCK_K, rows);
          acc.fill(0);
          for (let r = r0; r < r1; r++) {
            const wv = (weight[wBase + r] as number) - zwc;
            if (wv === 0) continue;
            const colBase = r * pairs;
            for (let t = 0; t < pairs; t++) acc[t] = (acc[t] as number) + wv * (packed[colBase + t] as number);
          }
          unpackPairsInto(acc, pairs, output, outBase, positions, 0);
        }
        if (args.bias !== undefined) {
          const bv = args.bias[oc] as number;
          for (let p = 0; p < positions; p++) output[outBase + p] = (output[outBase + p] as number) + bv;
        }
      }
    }
  }
  return { output, shape };
}

/** Arguments of {@link conv2dFloat32}. */
export interface Conv2dFloat32Args extends Conv2dGeometry {
  readonly input: Float32Array;
  readonly inputShape: readonly [number, number, number, number];
  readonly weight: Float32Array;
  readonly weightShape: readonly [number, number, number, number];
  readonly bias?: Float32Array;
}

/**
 * float32 2-D convolution (NCHW) with the same im2col and loop order as {@link conv2dInt8}: the
 * baseline the int8 kernel is benchmarked against, and the float path of the adapters.
 *
 * The im2col loop is written out again rather than shared with the int8 kernel on purpose: a shared
 * function sees two typed-array kinds and turns polymorphic, which measured 20-30% slower for both
 * kernels (`pnpm bench`) and would make the benchmark baseline unfair.
 */
export function conv2dFloat32(args: Conv2dFloat32Args): {
  output: Float32Array;
  shape: [number, number, number, number];
} {
  const shape = conv2dOutputShape(args.inputShape, args.weightShape, args);
  const [batch, m, oh, ow] = shape;
  const [, c, h, w] = args.inputShape;
  const [, cPerGroup, kh, kw] = args.weightShape;
  if (args.input.length !== batch * c * h * w)
    throw new ZeropointError("shape-mismatch", "conv2d input length does not match its shape");
  if (args.weight.length !== m * cPerGroup * kh * kw) {
    throw new ZeropointError("shape-mismatch", "conv2d weight length does not match its shape");
  }
  if (args.bias !== undefined && args.bias.length !== m)
    throw new ZeropointError("shape-mismatch", `bias must have ${m} entries`);
  const [sh, sw] = args.strides ?? [1, 1];
  const [pt, pl] = args.pads ?? [0, 0, 0, 0];
  const [dh, dw] = args.dilations ?? [1, 1];
  const group = args.group ?? 1;
  const mPerGroup = m / group;
  const rows = cPerGroup * kh * kw;
  const positions = oh * ow;
  const col = new Float32Array(rows * positions);
  const output = new Float32Array(batch * m * positions);
  const { input, weight } = args;
  for (let b = 0; b < batch; b++) {
    for (let g = 0; g < group; g++) {
      for (let ci = 0; ci < cPerGroup; ci++) {
        const channelBase = (b * c + g * cPerGroup + ci) * h * w;
        for (let y = 0; y < kh; y++) {
          for (let x = 0; x < kw; x++) {
            const rowBase = ((ci * kh + y) * kw + x) * positions;
            for (let oy = 0; oy < oh; oy++) {
              const iy = oy * sh - pt + y * dh;
              const outBase = rowBase + oy * ow;
              if (iy < 0 || iy >= h) {
                col.fill(0, outBase, outBase + ow);
                continue;
              }
              const inRow = channelBase + iy * w;
              for (let ox = 0; ox < ow; ox++) {
                const ix = ox * sw - pl + x * dw;
                col[outBase + ox] = ix < 0 || ix >= w ? 0 : (input[inRow + ix] as number);
              }
            }
          }
        }
      }
      for (let mi = 0; mi < mPerGroup; mi++) {
        const oc = g * mPerGroup + mi;
        const outBase = (b * m + oc) * positions;
        const wBase = oc * rows;
        for (let r = 0; r < rows; r++) {
          const wv = weight[wBase + r] as number;
          if (wv === 0) continue;
          const colBase = r * positions;
          for (let p = 0; p < positions; p++)
            output[outBase + p] = (output[outBase + p] as number) + wv * (col[colBase + p] as number);
        }
        if (args.bias !== undefined) {
          const bv = args.bias[oc] as number;
          for (let p = 0; p < positions; p++) output[outBase + p] = (output[outBase + p] as number) + bv;
        }
      }
    }
  }
  return { output, shape };
}
