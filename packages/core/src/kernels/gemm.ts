import { ZeropointError } from "../errors/zeropoint-error.js";

/** 8-bit integer matrices the GEMM accepts. */
export type Int8Like = Int8Array | Uint8Array;

/** Arguments of {@link gemmInt8}. */
export interface GemmInt8Args {
  /** Row-major `[m, k]`. */
  readonly a: Int8Like;
  /** Row-major `[k, n]`. */
  readonly b: Int8Like;
  readonly m: number;
  readonly k: number;
  readonly n: number;
  readonly aZeroPoint?: number;
  /** One zero point, or one per output column (MatMulInteger's per-column `b_zero_point`). */
  readonly bZeroPoint?: number | Int32Array;
  /** int32 bias added per output column. */
  readonly bias?: Int32Array;
  /** Output `[m, n]`; allocated when omitted. */
  readonly out?: Int32Array;
}

/** Column block of the GEMM: an int32 accumulator row of this length stays in L1. */
export const GEMM_BLOCK_N = 256;
/** Depth block of the GEMM: rows of B reused across all rows of A while hot in L2. */
export const GEMM_BLOCK_K = 128;

/**
 * Two 8-bit products share one float64: column pair `(2t, 2t+1)` of B is stored as
 * `b[2t] + b[2t+1] * LANE`, so `a * packed` performs both multiply-adds at once. Exactness: one
 * product is at most 255 * 255 < 2^16 in magnitude, a depth block of {@link GEMM_BLOCK_K} = 128 sums to
 * less than 2^23 per lane, so the low lane never reaches LANE / 2 and the whole value stays below
 * 2^48, far inside float64's 2^53 exact-integer range. Lanes are split after every depth block.
 */
const LANE = 2 ** 25;
const INV_LANE = 2 ** -25;

/**
 * Packs adjacent column pairs of a row-major `[rows, cols]` 8-bit (or small int16) matrix into
 * `[rows, ceil(cols / 2)]` float64 pairs (see {@link LANE}); `offset` is subtracted first.
 */
export function packColumnPairs(src: Int8Like | Int16Array, rows: number, cols: number, offset = 0): Float64Array {
  const pairs = (cols + 1) >> 1;
  const out = new Float64Array(rows * pairs);
  const even = cols & ~1;
  for (let r = 0; r < rows; r++) {
    const s = r * cols;
    const d = r * pairs;
    for (let c = 0; c < even; c += 2) {
      out[d + (c >> 1)] = (src[s + c] as number) - offset + ((src[s + c + 1] as number) - offset) * LANE;
    }
    if (even !== cols) out[d + pairs - 1] = (src[s + cols - 1] as number) - offset;
  }
  return out;
}

/** Splits packed lane sums into `out[base + 2t]`, `out[base + 2t + 1]` (int32, adding). */
export function unpackPairsInto(
  acc: Float64Array,
  pairs: number,
  out: Int32Array,
  base: number,
  cols: number,
  t0: number,
): void {
  for (let t = 0; t < pairs; t++) {
    const v = acc[t] as number;
    // The low lane is below LANE / 2 in magnitude, so rounding recovers the high lane exactly.
    const hi = Math.round(v * INV_LANE);
    const lo = v - hi * LANE;
    const j = (t0 + t) * 2;
    out[base + j] = (out[base + j] as number) + lo;
    if (j + 1 < cols) out[base + j + 1] = (out[base + j + 1] as number) + hi;
  }
}

/**
 * `C = (A - za)(B - zb) + bias` with int32 accumulation (MatMulInteger semantics, wrapping on
 * int32 overflow like the C kernels). Blocked over n (column pairs) and k like {@link gemmFloat32},
 * with the same loop order; B is packed two columns per float64 (see {@link LANE}), so each inner
 * step does two int8 multiply-adds. The B zero point is applied afterwards as
 * `zb_j * sum_k (a - za)`, so B is packed unchanged.
 */
export function gemmInt8(args: GemmInt8Args): Int32Array {
  const { a, b, m, k, n } = args;
  checkDims(a.length, b.length, m, k, n);
  const out = args.out ?? new Int32Array(m * n);
  if (out.length !== m * n) throw new ZeropointError("shape-mismatch", `output must have ${m * n} elements`);
  const za = args.aZeroPoint ?? 0;
  const zb = args.bZeroPoint ?? 0;
  if (typeof zb !== "number" && zb.length !== n) {
    throw new ZeropointError("shape-mismatch", `per-column B zero point must have ${n} entries, got ${zb.length}`);
  }
  out.fill(0);
  const rowSums = new Int32Array(m);
  for (let i = 0; i < m; i++) {
    let s = 0;
    for (let p = 0; p < k; p++) s += (a[i * k + p] as number) - za;
    rowSums[i] = s;
  }
  const pairs = (n + 1) >> 1;
  const packed = packColumnPairs(b, k, n);
  const blockPairs = GEMM_BLOCK_N >> 1;
  const acc = new Float64Array(blockPairs);
  for (let t0 = 0; t0 < pairs; t0 += blockPairs) {
    const t1 = Math.min(t0 + blockPairs, pairs);
    const width = t1 - t0;
    for (let p0 = 0; p0 < k; p0 += GEMM_BLOCK_K) {
      const p1 = Math.min(p0 + GEMM_BLOCK_K, k);
      for (let i = 0; i < m; i++) {
        const aRow = i * k;
        acc.fill(0, 0, width);
        for (let p = p0; p < p1; p++) {
          const av = (a[aRow + p] as number) - za;
          if (av === 0) continue;
          const bRow = p * pairs + t0;
          for (let t = 0; t < width; t++) acc[t] = (acc[t] as number) + av * (packed[bRow + t] as number);
        }
        unpackPairsInto(acc, width, out, i * n, n, t0);
      }
    }
  }
  const bias = args.bias;
  if (bias !== undefined && bias.length !== n)
    throw new ZeropointError("shape-mismatch", `bias must have ${n} entries`);
  for (let i = 0; i < m; i++) {
    const s = rowSums[i] as number;
    const cRow = i * n;
    for (let j = 0; j < n; j++) {
      const zbj = typeof zb === "number" ? zb : (zb[j] as number);
      out[cRow + j] = (out[cRow + j] as number) - zbj * s + (bias === undefined ? 0 : (bias[j] as number));
    }
  }
  return out;
}

/** Arguments of {@link gemmFloat32}. */
export interface GemmFloat32Args {
  readonly a: Float32Array;
  readonly b: Float32Array;
  readonly m: number;
  readonly k: number;
  readonly n: number;
  readonly bias?: Float32Array;
  readonly out?: Float32Array;
}

/**
 * float32 `C = A B + bias` with exactly the blocking and loop order of {@link gemmInt8}: the
 * baseline the integer kernels are benchmarked against, and the float path of the adapters.
 */
export function gemmFloat32(args: GemmFloat32Args): Float32Array {
  const { a, b, m, k, n } = args;
  checkDims(a.length, b.length, m, k, n);
  const out = args.out ?? new Float32Array(m * n);
  if (out.length !== m * n) throw new ZeropointError("shape-mismatch", `output must have ${m * n} elements`);
  out.fill(0);
  for (let j0 = 0; j0 < n; j0 += GEMM_BLOCK_N) {
    const j1 = Math.min(j0 + GEMM_BLOCK_N, n);
    for (let p0 = 0; p0 < k; p0 += GEMM_BLOCK_K) {
      const p1 = Math.min(p0 + GEMM_BLOCK_K, k);
      for (let i = 0; i < m; i++) {
        const aRow = i * k;
        const cRow = i * n;
        for (let p = p0; p < p1; p++) {
          const av = a[aRow + p] as number;
          if (av === 0) continue;
          const bRow = p * n;
          for (let j = j0; j < j1; j++) out[cRow + j] = (out[cRow + j] as number) + av * (b[bRow + j] as number);
        }
      }
    }
  }
  const bias = args.bias;
  if (bias !== undefined) {
    if (bias.length !== n) throw new ZeropointError("shape-mismatch", `bias must have ${n} entries`);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) out[i * n + j] = (out[i * n + j] as number) + (bias[j] as number);
  }
  return out;
}

function checkDims(aLength: number, bLength: number, m: number, k: number, n: number): void {
  for (const [name, v] of [
    ["m", m],
    ["k", k],
    ["n", n],
  ] as const) {
    if (!Number.isInteger(v) || v < 0)
      throw new ZeropointError("invalid-shape", `${name} must be a non-negative integer, got ${v}`);
  }
  if (aLength !== m * k) throw new ZeropointError("shape-mismatch", `A has ${aLength} elements, expected ${m}x${k}`);
  if (bLength !== k * n) throw new ZeropointError("shape-mismatch", `B has ${bLength} elements, expected ${k}x${n}`);
}
