import { ZeropointError } from "../errors/zeropoint-error.js";
import { type GroupQuantized, type GroupQuantOptions, roundHalfEven, rtnGroupQuantize } from "./group-quant.js";

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
}

/**
 * GPTQ (Frantar et al., 2022): quantizes a layer's input channels one at a time and, after each,
 * spreads its rounding error over the channels not yet quantized in proportion to the inverse
 * Hessian of the layer's output error, H = 2 X^T X / m from m calibration rows. With H = I it is
 * exactly round-to-nearest. `columnMajor[c * k + i]` is weight i of output column c; `rows` holds
 * m activation rows of length k. Memory is the k x k Hessian plus one copy of the weights; time is
 * O(k^3 + k^2 n).
 */
export function gptqQuantize(
  columnMajor: Float32Array,
  k: number,
  columns: number,
  rows: Float32Array,
  m: number,
  options: GptqOptions,
): GroupQuantized {
  if (rows.length !== m * k)
    throw new ZeropointError("shape-mismatch", `${rows.length} activations for ${m} rows of ${k}`);
  const h = new Float64Array(k * k);
  for (let r = 0; r < m; r++) {
    const x = rows.subarray(r * k, (r + 1) * k);
    for (let i = 0; i < k; i++) {
      const xi = x[i] as number;
      if (xi === 0) continue;
      for (let j = i; j < k; j++) h[i * k + j] = (h[i * k + j] as number) + xi * (x[j] as number);
    }
  }
  for (let i = 0; i < k; i++)
    for (let j = i; j < k; j++) {
      const v = ((h[i * k + j] as number) * 2) / Math.max(1, m);
      h[i * k + j] = v;
      h[j * k + i] = v;
    }
  return gptqWithHessian(columnMajor, k, columns, h, options);
}

/** {@link gptqQuantize} from a precomputed Hessian (k x k, row-major, symmetric). */
export function gptqWithHessian(
  columnMajor: Float32Array,
  k: number,
  columns: number,
  hessian: Float64Array,
  options: GptqOptions,
): GroupQuantized {
  const top = 2 ** options.bits - 1;
  const bs = options.blockSize;
  const blocks = Math.ceil(k / bs);
  // Channel-major working copy: w[i * columns + c].
  const w = new Float64Array(k * columns);
  for (let c = 0; c < columns; c++) for (let i = 0; i < k; i++) w[i * columns + c] = columnMajor[c * k + i] as number;
  const h = Float64Array.from(hessian);
  // Dead channels (never active in the data) carry no information: zero weight, unit curvature.
  for (let i = 0; i < k; i++) {
    if ((h[i * k + i] as number) === 0) {
      h[i * k + i] = 1;
      for (let c = 0; c < columns; c++) w[i * columns + c] = 0;
    }
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
  const ph = new Float64Array(k * k);
  for (let a = 0; a < k; a++)
    for (let b = 0; b < k; b++) ph[a * k + b] = h[(order[a] as number) * k + (order[b] as number)] as number;
  const u = upperCholeskyOfInverse(ph, k);
  const levels = new Uint8Array(k * columns);
  const scales = new Float32Array(columns * blocks);
  const zeroPoints = new Float32Array(columns * blocks);
  if (fixed) {
    scales.set(fixed.scales);
    zeroPoints.set(fixed.zeroPoints);
  }
  const err = new Float64Array(columns);
  for (let p = 0; p < k; p++) {
    const i = order[p] as number;
    const block = Math.floor(i / bs);
    if (!fixed && i % bs === 0) {
      // Block parameters from the current (error-updated) weights of this block, per column.
      for (let c = 0; c < columns; c++) {
        let lo = 0;
        let hi = 0;
        let absmax = 0;
        for (let j = i; j < Math.min(i + bs, k); j++) {
          const v = w[j * columns + c] as number;
          if (v < lo) lo = v;
          if (v > hi) hi = v;
          if (Math.abs(v) > Math.abs(absmax)) absmax = v;
        }
        let scale: number;
        let zp: number;
        if (options.symmetric) {
          zp = 2 ** (options.bits - 1);
          scale = Math.fround(absmax / -zp);
        } else {
          scale = Math.fround((hi - lo) / top);
          zp = scale === 0 ? 0 : Math.min(top, Math.max(0, roundHalfEven(-lo / scale)));
        }
        scales[c * blocks + block] = scale;
        zeroPoints[c * blocks + block] = zp;
      }
    }
    const d = u[p * k + p] as number;
    for (let c = 0; c < columns; c++) {
      const g = c * blocks + block;
      const scale = scales[g] as number;
      const zp = zeroPoints[g] as number;
      const v = w[i * columns + c] as number;
      const level = scale === 0 ? zp : Math.min(top, Math.max(0, roundHalfEven(v / scale) + zp));
      levels[c * k + i] = level;
      err[c] = (v - (level - zp) * scale) / d;
    }
    for (let q = p + 1; q < k; q++) {
      const factor = u[p * k + q] as number;
      if (factor === 0) continue;
      const j = order[q] as number;
      const row = j * columns;
      for (let c = 0; c < columns; c++) w[row + c] = (w[row + c] as number) - (err[c] as number) * factor;
    }
  }
  return { bits: options.bits, blockSize: bs, columns, k, levels, scales, zeroPoints };
}

/** U upper triangular with H^-1 = U^T U, for symmetric positive definite H (k x k). */
function upperCholeskyOfInverse(h: Float64Array, k: number): Float64Array {
  const l = cholesky(h, k);
  // H^-1 = L^-T L^-1: invert L (lower) by forward substitution.
  const li = new Float64Array(k * k);
  for (let j = 0; j < k; j++) {
    li[j * k + j] = 1 / (l[j * k + j] as number);
    for (let i = j + 1; i < k; i++) {
      let s = 0;
      for (let t = j; t < i; t++) s += (l[i * k + t] as number) * (li[t * k + j] as number);
      li[i * k + j] = -s / (l[i * k + i] as number);
    }
  }
  const inv = new Float64Array(k * k);
  for (let i = 0; i < k; i++)
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let t = i; t < k; t++) s += (li[t * k + i] as number) * (li[t * k + j] as number);
      inv[i * k + j] = s;
      inv[j * k + i] = s;
    }
  const lower = cholesky(inv, k);
  const upper = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = 0; j <= i; j++) upper[j * k + i] = lower[i * k + j] as number;
  return upper;
}

function cholesky(a: Float64Array, k: number): Float64Array {
  const l = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * k + j] as number;
      for (let t = 0; t < j; t++) s -= (l[i * k + t] as number) * (l[j * k + t] as number);
      if (i === j) {
        if (s <= 0) throw new ZeropointError("invalid-state", `GPTQ: the Hessian is not positive definite at ${i}`);
        l[i * k + i] = Math.sqrt(s);
      } else l[i * k + j] = s / (l[j * k + j] as number);
    }
  }
  return l;
}
