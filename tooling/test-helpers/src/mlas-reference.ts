/**
 * A reference for onnxruntime's (MLAS) integer arithmetic on the kernel a CPU uses, so tests that
 * compare core's kernels with onnxruntime hold on every CPU: exact where MLAS is exact, and where
 * it is not (x86 without VNNI: `vpmaddubsw` sums uint8 × int8 products of adjacent depth indices
 * 2p, 2p+1 into int16 with saturation), the same saturation. Written from the measured behaviour
 * of onnxruntime-node 1.30 under an emulated Zen 3 (qemu-user `-cpu EPYC-Milan`), which matched it
 * on every random case of the kernel tests:
 * - only uint8 × int8 saturates; uint8 × uint8, int8 × int8 and int8 × uint8 are exact;
 * - MatMulInteger pairs the depth of A's rows / B's columns as stored;
 * - QLinearConv pairs the depth in NHWC order (kernel row, kernel column, input channel) of a
 *   group, with padding cells holding the input zero point, except depthwise convolutions (one
 *   input and one output channel per group), which are exact.
 * Deliberately naive (no blocking): it is the reference, not a kernel.
 */

import { encodeOnnxModel } from "./onnx-model.js";

/** The one arithmetic choice that differs between CPUs. */
export interface MlasArithmetic {
  readonly u8s8Saturates: boolean;
}

const EXACT: MlasArithmetic = { u8s8Saturates: false };

function saturate16(v: number): number {
  return v > 32767 ? 32767 : v < -32768 ? -32768 : v;
}

/** Σ over depth of x·w in MLAS's pairing; `saturates` applies sat16 to every pair sum. */
function pairedDot(xs: ArrayLike<number>, ws: ArrayLike<number>, length: number, saturates: boolean): number {
  let acc = 0;
  for (let p = 0; p < length; p += 2) {
    let s = (xs[p] as number) * (ws[p] as number);
    if (p + 1 < length) s += (xs[p + 1] as number) * (ws[p + 1] as number);
    acc += saturates ? saturate16(s) : s;
  }
  return acc;
}

/** Arguments of {@link referenceMatMulInteger}. */
export interface ReferenceMatMulArgs {
  readonly a: Int8Array | Uint8Array;
  readonly b: Int8Array | Uint8Array;
  readonly m: number;
  readonly k: number;
  readonly n: number;
  readonly aZeroPoint?: number;
  readonly bZeroPoint?: number;
}

/**
 * MatMulInteger as MLAS computes it: raw products accumulated (paired, maybe saturated), then the
 * zero points removed through row and column sums, `Σab − zb·Σa − za·Σb + k·za·zb`, which equals
 * `Σ(a − za)(b − zb)` exactly when nothing saturates.
 */
export function referenceMatMulInteger(args: ReferenceMatMulArgs, arithmetic: MlasArithmetic = EXACT): Int32Array {
  const { a, b, m, k, n } = args;
  const za = args.aZeroPoint ?? 0;
  const zb = args.bZeroPoint ?? 0;
  const saturates = arithmetic.u8s8Saturates && a instanceof Uint8Array && b instanceof Int8Array;
  const out = new Int32Array(m * n);
  const row = new Float64Array(k);
  const col = new Float64Array(k);
  for (let i = 0; i < m; i++) {
    let rowSum = 0;
    for (let q = 0; q < k; q++) {
      row[q] = a[i * k + q] as number;
      rowSum += row[q] as number;
    }
    for (let j = 0; j < n; j++) {
      let colSum = 0;
      for (let q = 0; q < k; q++) {
        col[q] = b[q * n + j] as number;
        colSum += col[q] as number;
      }
      const raw = pairedDot(row, col, k, saturates);
      out[i * n + j] = raw - zb * rowSum - za * colSum + k * za * zb;
    }
  }
  return out;
}

/** Arguments of {@link referenceQLinearConvAccumulators} (NCHW, 2-D, batch 1 or more). */
export interface ReferenceConvArgs {
  readonly x: Uint8Array | Int8Array;
  readonly xShape: readonly [number, number, number, number];
  readonly xZeroPoint: number;
  readonly w: Int8Array | Uint8Array;
  readonly wShape: readonly [number, number, number, number];
  /** Per output channel (symmetric int8 weights have all zeros). */
  readonly wZeroPoint: ArrayLike<number>;
  readonly bias?: Int32Array;
  readonly strides?: readonly [number, number];
  readonly pads?: readonly [number, number, number, number];
  readonly dilations?: readonly [number, number];
  readonly group?: number;
}

/** The int32 accumulators (bias included) QLinearConv requantizes, `[batch, m, oh, ow]`. */
export function referenceQLinearConvAccumulators(
  args: ReferenceConvArgs,
  arithmetic: MlasArithmetic = EXACT,
): { acc: Int32Array; shape: [number, number, number, number] } {
  const [batch, cin, h, w] = args.xShape;
  const [m, cg, kh, kw] = args.wShape;
  const group = args.group ?? 1;
  const [sh, sw] = args.strides ?? [1, 1];
  const [pt, pl, pb, pr] = args.pads ?? [0, 0, 0, 0];
  const [dh, dw] = args.dilations ?? [1, 1];
  const oh = Math.floor((h + pt + pb - dh * (kh - 1) - 1) / sh) + 1;
  const ow = Math.floor((w + pl + pr - dw * (kw - 1) - 1) / sw) + 1;
  const mg = m / group;
  const depthwise = cg === 1 && mg === 1;
  const saturates =
    arithmetic.u8s8Saturates && !depthwise && args.x instanceof Uint8Array && args.w instanceof Int8Array;
  const depth = kh * kw * cg;
  const xs = new Float64Array(depth);
  const ws = new Float64Array(depth);
  const acc = new Int32Array(batch * m * oh * ow);
  for (let nb = 0; nb < batch; nb++) {
    for (let co = 0; co < m; co++) {
      const g = Math.floor(co / mg);
      const zw = args.wZeroPoint[co] as number;
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          let d = 0;
          let xSum = 0;
          let wSum = 0;
          for (let ky = 0; ky < kh; ky++) {
            for (let kx = 0; kx < kw; kx++) {
              const iy = oy * sh - pt + ky * dh;
              const ix = ox * sw - pl + kx * dw;
              const inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
              for (let ci = 0; ci < cg; ci++) {
                const xv = inside ? (args.x[((nb * cin + g * cg + ci) * h + iy) * w + ix] as number) : args.xZeroPoint;
                const wv = args.w[((co * cg + ci) * kh + ky) * kw + kx] as number;
                xs[d] = xv;
                ws[d] = wv;
                xSum += xv;
                wSum += wv;
                d++;
              }
            }
          }
          const raw = pairedDot(xs, ws, depth, saturates);
          const zx = args.xZeroPoint;
          const value = raw - zw * xSum - zx * wSum + depth * zx * zw + (args.bias?.[co] ?? 0);
          acc[((nb * m + co) * oh + oy) * ow + ox] = value;
        }
      }
    }
  }
  return { acc, shape: [batch, m, oh, ow] };
}

/** The minimal part of onnxruntime-node the probe needs (structural, so no dependency here). */
interface OrtLike {
  InferenceSession: {
    create(
      model: Uint8Array,
      options: object,
    ): Promise<{
      run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown }>>;
      release(): Promise<void>;
    }>;
  };
  Tensor: new (type: "uint8" | "int8", data: Uint8Array | Int8Array, dims: number[]) => unknown;
}

/**
 * Asks onnxruntime which arithmetic it uses here: one MatMulInteger, uint8 255 × int8 127 over a
 * depth of 4, exactly 129540; a saturating kernel returns 2·32767 = 65534. Kept independent of the
 * product's own probe (`@zeropoint/onnx`), which is tested against this one.
 */
export async function probeMlasArithmetic(ort: OrtLike): Promise<MlasArithmetic> {
  const session = await ort.InferenceSession.create(encodeOnnxModel(PROBE_MODEL), {
    executionProviders: ["cpu"],
    intraOpNumThreads: 1,
    graphOptimizationLevel: "disabled",
  });
  try {
    const out = await session.run({
      A: new ort.Tensor("uint8", new Uint8Array(4).fill(255), [1, 4]),
      B: new ort.Tensor("int8", new Int8Array(4).fill(127), [4, 1]),
    });
    const data = out.Y?.data as Int32Array | undefined;
    const got = data?.[0];
    if (got === 129540) return { u8s8Saturates: false };
    if (got === 65534) return { u8s8Saturates: true };
    throw new Error(`MLAS probe returned ${String(got)}: neither exact (129540) nor pair-saturated (65534)`);
  } finally {
    await session.release();
  }
}

const PROBE_MODEL: Parameters<typeof encodeOnnxModel>[0] = {
  nodes: [{ opType: "MatMulInteger", inputs: ["A", "B"], outputs: ["Y"] }],
  inputs: [
    { name: "A", elemType: "uint8", dims: [1, 4] },
    { name: "B", elemType: "int8", dims: [4, 1] },
  ],
  outputs: [{ name: "Y", elemType: "int32", dims: [1, 1] }],
};
