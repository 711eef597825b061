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
 * `C = (A - za)(B - zb) + bias` with int32 accumulation (MatMulInteger semantics, wrapping on
 * overflow like the C kernels). Blocked over n and k; the inner loop is a contiguous
 * `acc[j] += a * B[k, j]`. The B zero point is applied afterwards as `zb_j * sum_k (a - za)`, so the
 * inner loop reads B unchanged.
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
  for (let j0 = 0; j0 < n; j0 += GEMM_BLOCK_N) {
    const j1 = Math.min(j0 + GEMM_BLOCK_N, n);
    for (let p0 = 0; p0 < k; p0 += GEMM_BLOCK_K) {
      const p1 = Math.min(p0 + GEMM_BLOCK_K, k);
      for (let i = 0; i < m; i++) {
        const aRow = i * k;
        const cRow = i * n;
        for (let p = p0; p < p1; p++) {
          const av = (a[aRow + p] as number) - za;
          if (av === 0) continue;
          const bRow = p * n;
          for (let j = j0; j < j1; j++) out[cRow + j] = (out[cRow + j] as number) + av * (b[bRow + j] as number);
        }
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
