import { ZeropointError } from "../errors/zeropoint-error.js";
import { gemmFloat32 } from "../kernels/gemm.js";
import {
  blockParams,
  type GroupQuantized,
  type GroupQuantOptions,
  roundHalfEven,
  rtnGroupQuantize,
} from "./group-quant.js";

/**
 * Row-major float32 `A [m x k] @ B [k x n]`. GPTQ's O(k^3 + k^2 n) work is almost all such
 * products, so an adapter can hand in a faster one (onnxruntime's MLAS GEMM); the default is core's
 * {@link gemmFloat32}.
 */
export type MatrixMultiply = (
  a: Float32Array,
  b: Float32Array,
  m: number,
  k: number,
  n: number,
) => Float32Array | Promise<Float32Array>;

/** core's own float32 GEMM as a {@link MatrixMultiply}. */
export const jsMatrixMultiply: MatrixMultiply = (a, b, m, k, n) => gemmFloat32({ a, b, m, k, n });

/** Options of {@link gptqQuantize}. */
export interface GptqOptions extends GroupQuantOptions {
  /** Added to the Hessian's diagonal, as a fraction of its mean (GPTQ's percdamp). Default 0.01. */
  readonly damp?: number;
  /**
   * Process input channels by decreasing Hessian diagonal (act-order). Block parameters are then
   * fixed beforehand from the original weights ("static groups"), so blocks stay contiguous along
   * k, as MatMulNBits stores them.
   */
  readonly actOrder?: boolean;
  /** The GEMM behind the blocked steps; default {@link jsMatrixMultiply}. */
  readonly matmul?: MatrixMultiply;
  /** Channels per lazy batch (GPTQ's blocksize): rounded up to a multiple of the quantization block. Default 128. */
  readonly batch?: number;
}

/**
 * GPTQ (Frantar et al., 2022): quantizes a layer's input channels one at a time and, after each,
 * spreads its rounding error over the channels not yet quantized in proportion to the inverse
 * Hessian of the layer's output error, H = 2 X^T X / m from m calibration rows. With H = I it is
 * exactly round-to-nearest. `columnMajor[c * k + i]` is weight i of output column c; `rows` holds
 * m activation rows of length k. Memory is the k x k Hessian, its factor and one float32 copy of
 * the weights; the O(k^3 + k^2 n) work is GEMMs (blocked Cholesky, blocked triangular inverse,
 * lazy-batch error updates), so `options.matmul` sets its speed.
 */
export async function gptqQuantize(
  columnMajor: Float32Array,
  k: number,
  columns: number,
  rows: Float32Array,
  m: number,
  options: GptqOptions,
): Promise<GroupQuantized> {
  if (rows.length !== m * k)
    throw new ZeropointError("shape-mismatch", `${rows.length} activations for ${m} rows of ${k}`);
  const matmul = options.matmul ?? jsMatrixMultiply;
  // H = 2 X^T X / m as one GEMM: X^T [k x m] @ X [m x k].
  const xt = new Float32Array(k * m);
  for (let r = 0; r < m; r++) for (let i = 0; i < k; i++) xt[i * m + r] = rows[r * k + i] as number;
  const h = await matmul(xt, rows, k, m, k);
  const scale = 2 / Math.max(1, m);
  for (let i = 0; i < k * k; i++) h[i] = (h[i] as number) * scale;
  // Exact symmetry (a GEMM may round the two triangles differently).
  for (let i = 0; i < k; i++)
    for (let j = i + 1; j < k; j++) {
      const v = Math.fround(((h[i * k + j] as number) + (h[j * k + i] as number)) / 2);
      h[i * k + j] = v;
      h[j * k + i] = v;
    }
  return gptqWithHessian(columnMajor, k, columns, h, options);
}

/** {@link gptqQuantize} from a precomputed Hessian (k x k, row-major, symmetric). */
export async function gptqWithHessian(
  columnMajor: Float32Array,
  k: number,
  columns: number,
  hessian: Float32Array | Float64Array,
  options: GptqOptions,
): Promise<GroupQuantized> {
  if (hessian.length !== k * k) throw new ZeropointError("shape-mismatch", `Hessian of ${hessian.length} for k = ${k}`);
  const matmul = options.matmul ?? jsMatrixMultiply;
  const top = 2 ** options.bits - 1;
  const bs = options.blockSize;
  const blocks = Math.ceil(k / bs);
  const n = columns;
  const h = Float32Array.from(hessian);
  const dead = new Uint8Array(k);
  // Dead channels (never active in the data) carry no information: zero weight, unit curvature.
  for (let i = 0; i < k; i++)
    if ((h[i * k + i] as number) === 0) {
      h[i * k + i] = 1;
      dead[i] = 1;
    }
  let mean = 0;
  for (let i = 0; i < k; i++) mean += h[i * k + i] as number;
  const damp = (options.damp ?? 0.01) * (mean / k);
  for (let i = 0; i < k; i++) h[i * k + i] = (h[i * k + i] as number) + damp;
  const order = Array.from({ length: k }, (_, i) => i);
  if (options.actOrder) order.sort((a, b) => (h[b * k + b] as number) - (h[a * k + a] as number));
  // Static block parameters (act-order) come from the original weights.
  const fixed = options.actOrder
    ? rtnGroupQuantize(columnMajor, k, columns, { ...options, clipSearch: false })
    : undefined;
  // Everything below works in processing order p (channel order[p]): w[p * n + c], ph[p][q].
  const w = new Float32Array(k * n);
  for (let p = 0; p < k; p++) {
    const i = order[p] as number;
    if (dead[i] === 1) continue;
    for (let c = 0; c < n; c++) w[p * n + c] = columnMajor[c * k + i] as number;
  }
  const ph = new Float32Array(k * k);
  for (let a = 0; a < k; a++)
    for (let b = 0; b < k; b++) ph[a * k + b] = h[(order[a] as number) * k + (order[b] as number)] as number;
  const u = await upperCholeskyOfInverse(ph, k, matmul);
  const levels = new Uint8Array(k * columns);
  const scales = new Float32Array(columns * blocks);
  const zeroPoints = new Float32Array(columns * blocks);
  if (fixed) {
    scales.set(fixed.scales);
    zeroPoints.set(fixed.zeroPoints);
  }
  // Lazy batches (GPTQ's own blocking): errors of a batch's channels update the channels after it
  // in one GEMM; a batch holds whole quantization blocks so block parameters see updated weights.
  const batch = Math.ceil(Math.max(options.batch ?? 128, 1) / bs) * bs;
  for (let p0 = 0; p0 < k; p0 += batch) {
    const p1 = Math.min(p0 + batch, k);
    const errors = new Float32Array((p1 - p0) * n);
    for (let p = p0; p < p1; p++) {
      const i = order[p] as number;
      const block = Math.floor(i / bs);
      // Without act-order p = i, and a block's channels are rows p .. p + bs of this batch.
      if (!fixed && i % bs === 0)
        setBlockParams(w, p, Math.min(p + bs, k), n, blocks, block, options, scales, zeroPoints);
      const d = u[p * k + p] as number;
      const e = (p - p0) * n;
      for (let c = 0; c < n; c++) {
        const g = c * blocks + block;
        const s = scales[g] as number;
        const zp = zeroPoints[g] as number;
        const v = w[p * n + c] as number;
        const level = s === 0 ? zp : Math.min(top, Math.max(0, roundHalfEven(v / s) + zp));
        levels[c * k + i] = level;
        errors[e + c] = (v - (level - zp) * s) / d;
      }
      for (let q = p + 1; q < p1; q++) {
        const factor = u[p * k + q] as number;
        if (factor === 0) continue;
        const row = q * n;
        for (let c = 0; c < n; c++) w[row + c] = (w[row + c] as number) - (errors[e + c] as number) * factor;
      }
    }
    if (p1 < k) {
      // w[p1:, :] -= U[p0:p1, p1:]^T @ errors.
      const rest = k - p1;
      const ut = new Float32Array(rest * (p1 - p0));
      for (let q = 0; q < rest; q++)
        for (let p = p0; p < p1; p++) ut[q * (p1 - p0) + (p - p0)] = u[p * k + p1 + q] as number;
      const update = await matmul(ut, errors, rest, p1 - p0, n);
      const base = p1 * n;
      for (let j = 0; j < rest * n; j++) w[base + j] = (w[base + j] as number) - (update[j] as number);
    }
  }
  return { bits: options.bits, blockSize: bs, columns, k, levels, scales, zeroPoints };
}

/** Block parameters of rows [from, to) of w (processing order), per column, from the updated weights. */
function setBlockParams(
  w: Float32Array,
  from: number,
  to: number,
  n: number,
  blocks: number,
  block: number,
  options: GroupQuantOptions,
  scales: Float32Array,
  zeroPoints: Float32Array,
): void {
  for (let c = 0; c < n; c++) {
    let lo = 0;
    let hi = 0;
    let absmax = 0;
    for (let j = from; j < to; j++) {
      const v = w[j * n + c] as number;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
      if (Math.abs(v) > Math.abs(absmax)) absmax = v;
    }
    const { scale, zp } = blockParams(lo, hi, absmax, options.bits, options.symmetric);
    scales[c * blocks + block] = scale;
    zeroPoints[c * blocks + block] = zp;
  }
}

const PANEL = 128;

/**
 * U upper triangular with H^-1 = U^T U, for symmetric positive definite H (k x k), from one
 * Cholesky and one triangular inverse: with J the order reversal and J H J = M M^T (M lower),
 * H^-1 = (J M^-1 J)^T (J M^-1 J), and J M^-1 J is upper triangular. (The usual route, Cholesky of
 * H, its inverse, then a Cholesky of H^-1, costs one more k^3 step.)
 */
async function upperCholeskyOfInverse(h: Float32Array, k: number, matmul: MatrixMultiply): Promise<Float32Array> {
  const reversed = new Float32Array(k * k);
  for (let a = 0; a < k; a++)
    for (let b = 0; b < k; b++) reversed[a * k + b] = h[(k - 1 - a) * k + (k - 1 - b)] as number;
  const m = await blockedCholesky(reversed, k, matmul);
  const x = await blockedLowerInverse(m, k, matmul);
  const u = new Float32Array(k * k);
  for (let a = 0; a < k; a++) for (let b = a; b < k; b++) u[a * k + b] = x[(k - 1 - a) * k + (k - 1 - b)] as number;
  return u;
}

/** Lower Cholesky factor, right-looking by panels of 128: each panel's trailing update is a GEMM. */
async function blockedCholesky(a: Float32Array, k: number, matmul: MatrixMultiply): Promise<Float32Array> {
  for (let j0 = 0; j0 < k; j0 += PANEL) {
    const j1 = Math.min(j0 + PANEL, k);
    const w = j1 - j0;
    const diagonal = new Float64Array(w * w);
    for (let i = 0; i < w; i++) for (let j = 0; j < w; j++) diagonal[i * w + j] = a[(j0 + i) * k + j0 + j] as number;
    const l11 = cholesky(diagonal, w, j0);
    for (let i = 0; i < w; i++)
      for (let j = 0; j < w; j++) a[(j0 + i) * k + j0 + j] = j <= i ? (l11[i * w + j] as number) : 0;
    if (j1 === k) break;
    const rest = k - j1;
    // L21 = A21 L11^-T.
    const inverse = lowerInverse(l11, w);
    const inverseT = new Float32Array(w * w);
    for (let i = 0; i < w; i++) for (let j = 0; j < w; j++) inverseT[i * w + j] = inverse[j * w + i] as number;
    const a21 = new Float32Array(rest * w);
    for (let i = 0; i < rest; i++) for (let j = 0; j < w; j++) a21[i * w + j] = a[(j1 + i) * k + j0 + j] as number;
    const l21 = await matmul(a21, inverseT, rest, w, w);
    const l21t = new Float32Array(w * rest);
    for (let i = 0; i < rest; i++)
      for (let j = 0; j < w; j++) {
        a[(j1 + i) * k + j0 + j] = l21[i * w + j] as number;
        a[j0 * k + j * k + j1 + i] = 0;
        l21t[j * rest + i] = l21[i * w + j] as number;
      }
    // A22 -= L21 L21^T.
    const product = await matmul(l21, l21t, rest, w, rest);
    for (let i = 0; i < rest; i++) {
      const row = (j1 + i) * k + j1;
      for (let j = 0; j < rest; j++) a[row + j] = (a[row + j] as number) - (product[i * rest + j] as number);
    }
  }
  return a;
}

/** M^-1 for lower triangular M, by block rows: X[i, :i] = -inv(M_ii) (M[i, :i] X[:i, :i]). */
async function blockedLowerInverse(m: Float32Array, k: number, matmul: MatrixMultiply): Promise<Float32Array> {
  const x = new Float32Array(k * k);
  for (let i0 = 0; i0 < k; i0 += PANEL) {
    const i1 = Math.min(i0 + PANEL, k);
    const w = i1 - i0;
    const diagonal = new Float64Array(w * w);
    for (let i = 0; i < w; i++) for (let j = 0; j <= i; j++) diagonal[i * w + j] = m[(i0 + i) * k + i0 + j] as number;
    const inverse = lowerInverse(diagonal, w);
    for (let i = 0; i < w; i++) for (let j = 0; j <= i; j++) x[(i0 + i) * k + i0 + j] = inverse[i * w + j] as number;
    if (i0 === 0) continue;
    const row = new Float32Array(w * i0);
    for (let i = 0; i < w; i++) for (let j = 0; j < i0; j++) row[i * i0 + j] = m[(i0 + i) * k + j] as number;
    const done = new Float32Array(i0 * i0);
    for (let i = 0; i < i0; i++) for (let j = 0; j <= i; j++) done[i * i0 + j] = x[i * k + j] as number;
    const t = await matmul(row, done, w, i0, i0);
    const inverse32 = Float32Array.from(inverse);
    const block = await matmul(inverse32, t, w, w, i0);
    for (let i = 0; i < w; i++) for (let j = 0; j < i0; j++) x[(i0 + i) * k + j] = -(block[i * i0 + j] as number);
  }
  return x;
}

/** Unblocked Cholesky in float64 of a small block (a panel); `offset` names the channel in errors. */
function cholesky(a: Float64Array, k: number, offset: number): Float64Array {
  const l = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * k + j] as number;
      for (let t = 0; t < j; t++) s -= (l[i * k + t] as number) * (l[j * k + t] as number);
      if (i === j) {
        if (!(s > 0))
          throw new ZeropointError("invalid-state", `GPTQ: the Hessian is not positive definite at ${offset + i}`);
        l[i * k + i] = Math.sqrt(s);
      } else l[i * k + j] = s / (l[j * k + j] as number);
    }
  }
  return l;
}

/** Inverse of a small lower triangular matrix (float64, forward substitution). */
function lowerInverse(l: Float64Array, k: number): Float64Array {
  const li = new Float64Array(k * k);
  for (let j = 0; j < k; j++) {
    li[j * k + j] = 1 / (l[j * k + j] as number);
    for (let i = j + 1; i < k; i++) {
      let s = 0;
      for (let t = j; t < i; t++) s += (l[i * k + t] as number) * (li[t * k + j] as number);
      li[i * k + j] = -s / (l[i * k + i] as number);
    }
  }
  return li;
}
