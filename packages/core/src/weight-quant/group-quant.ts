import { ZeropointError } from "../errors/zeropoint-error.js";

/**
 * Block-wise (grouped) low-bit weights, the layout of onnxruntime's MatMulNBits: a weight stored as
 * `columns` of length `k` (a MatMul's B[:, n], Gemm's transB rows), each cut into blocks of
 * `blockSize` along k, each block with its own scale and zero point. Dequantized value:
 * `(q - zeroPoint) * scale`, q in 0..2^bits-1.
 */
export interface GroupQuantized {
  readonly bits: number;
  readonly blockSize: number;
  readonly columns: number;
  readonly k: number;
  /** Levels, column-major by block: `[columns][k]`, each 0..2^bits-1. */
  readonly levels: Uint8Array;
  /** `[columns][blocks]`. */
  readonly scales: Float32Array;
  /** `[columns][blocks]`: integral for RTN, real-valued for HQQ (MatMulNBits takes float zero points). */
  readonly zeroPoints: Float32Array;
}

/** Options shared by the block-wise quantizers. */
export interface GroupQuantOptions {
  readonly bits: number;
  readonly blockSize: number;
  /** Symmetric blocks: zero point fixed at 2^(bits-1), scale from the largest magnitude. */
  readonly symmetric?: boolean;
  /**
   * Clipping search: each block's range is shrunk by the ratio in 1, 0.95, ..., 0.5 that minimizes
   * its squared reconstruction error (weighted per element of k by `importance`, e.g. the mean
   * squared activation of each input channel), trading a clipped outlier for finer steps.
   */
  readonly clipSearch?: boolean;
  /** Per input channel (length k) weights of the clipping search's error; default all 1. */
  readonly importance?: ArrayLike<number>;
}

const CLIP_RATIOS = [1, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.6, 0.55, 0.5];

/**
 * One block's scale and zero point from its (possibly clipped) range, as every block method here
 * sets them: asymmetric, [lo, hi] (which include 0) onto 0..2^bits-1 with zero point round(-lo /
 * scale); symmetric, zero point 2^(bits-1) and scale = signed largest magnitude / -2^(bits-1).
 */
export function blockParams(
  lo: number,
  hi: number,
  absmax: number,
  bits: number,
  symmetric: boolean | undefined,
): { scale: number; zp: number } {
  const top = 2 ** bits - 1;
  if (symmetric) {
    const zp = 2 ** (bits - 1);
    return { scale: Math.fround(absmax / -zp), zp };
  }
  const scale = Math.fround((hi - lo) / top);
  return { scale, zp: scale === 0 ? 0 : Math.min(top, Math.max(0, roundHalfEven(-lo / scale))) };
}

/** Round half to even (onnxruntime's and NumPy's rounding). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function check(k: number, columns: number, data: ArrayLike<number>, o: GroupQuantOptions): number {
  if (!Number.isInteger(o.bits) || o.bits < 2 || o.bits > 8)
    throw new ZeropointError("invalid-argument", `bits must be 2..8, got ${o.bits}`);
  if (!Number.isInteger(o.blockSize) || o.blockSize < 1)
    throw new ZeropointError("invalid-argument", `block size must be a positive integer, got ${o.blockSize}`);
  if (data.length !== k * columns)
    throw new ZeropointError("shape-mismatch", `${data.length} weights for ${columns} columns of ${k}`);
  return Math.ceil(k / o.blockSize);
}

/**
 * Round-to-nearest blocks. Asymmetric: the block's range widened to include 0, mapped onto
 * 0..2^bits-1 (scale (max - min) / (2^bits - 1), zero point round(-min / scale)); symmetric: zero
 * point 2^(bits-1) and scale = signed largest magnitude / -2^(bits-1), as MatMulNBits' symmetric
 * quantizer writes it. `columnMajor[c * k + i]` is element i of column c.
 */
export function rtnGroupQuantize(
  columnMajor: ArrayLike<number>,
  k: number,
  columns: number,
  o: GroupQuantOptions,
): GroupQuantized {
  const blocks = check(k, columns, columnMajor, o);
  const top = 2 ** o.bits - 1;
  const levels = new Uint8Array(k * columns);
  const scales = new Float32Array(columns * blocks);
  const zeroPoints = new Float32Array(columns * blocks);
  for (let c = 0; c < columns; c++) {
    for (let b = 0; b < blocks; b++) {
      const start = c * k + b * o.blockSize;
      const end = c * k + Math.min((b + 1) * o.blockSize, k);
      let lo = 0;
      let hi = 0;
      let absmax = 0;
      for (let i = start; i < end; i++) {
        const v = columnMajor[i] as number;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
        if (Math.abs(v) > Math.abs(absmax)) absmax = v;
      }
      let scale = 0;
      let zp = 0;
      let bestError = Number.POSITIVE_INFINITY;
      for (const ratio of o.clipSearch ? CLIP_RATIOS : [1]) {
        const { scale: candidateScale, zp: candidateZp } = blockParams(
          lo * ratio,
          hi * ratio,
          absmax * ratio,
          o.bits,
          o.symmetric,
        );
        if (!o.clipSearch) {
          scale = candidateScale;
          zp = candidateZp;
          break;
        }
        const inv = candidateScale === 0 ? 0 : 1 / candidateScale;
        let error = 0;
        for (let i = start; i < end; i++) {
          const v = columnMajor[i] as number;
          const level = Math.min(top, Math.max(0, roundHalfEven(v * inv) + candidateZp));
          const d = v - (level - candidateZp) * candidateScale;
          error += d * d * ((o.importance?.[i - c * k] as number | undefined) ?? 1);
        }
        if (error < bestError) {
          bestError = error;
          scale = candidateScale;
          zp = candidateZp;
        }
      }
      scales[c * blocks + b] = scale;
      zeroPoints[c * blocks + b] = zp;
      const inv = scale === 0 ? 0 : 1 / scale;
      for (let i = start; i < end; i++)
        levels[i] = Math.min(top, Math.max(0, roundHalfEven((columnMajor[i] as number) * inv) + zp));
    }
  }
  return { bits: o.bits, blockSize: o.blockSize, columns, k, levels, scales, zeroPoints };
}

/** The dequantized weights, column-major like the input. */
export function dequantizeGroups(q: GroupQuantized): Float32Array {
  const blocks = Math.ceil(q.k / q.blockSize);
  const out = new Float32Array(q.k * q.columns);
  for (let c = 0; c < q.columns; c++)
    for (let i = 0; i < q.k; i++) {
      const g = c * blocks + Math.floor(i / q.blockSize);
      out[c * q.k + i] = ((q.levels[c * q.k + i] as number) - (q.zeroPoints[g] as number)) * (q.scales[g] as number);
    }
  return out;
}

/** Options of {@link hqqGroupQuantize} (HQQ's defaults). */
export interface HqqOptions extends GroupQuantOptions {
  /** The l_p "norm" of the error model (p < 1 favours sparse, outlier errors). Default 0.7. */
  readonly lpNorm?: number;
  readonly beta?: number;
  readonly kappa?: number;
  readonly iterations?: number;
}

/**
 * Half-Quadratic Quantization (Badri & Shaji, 2023), data-free: starting from the RTN scale and a
 * real-valued zero point, alternates (1) rounding with the current zero point, (2) a generalized
 * soft-threshold of the error under an l_p (p < 1) model, which lets a few outliers keep large
 * errors, and (3) the closed-form zero point that fits the rest; stops when the mean absolute
 * reconstruction error stops falling. Scales stay the RTN ones; zero points end real-valued.
 * Per block, so memory is one block; the result is never worse than its starting point in mean
 * absolute error (the best iterate is kept).
 */
export function hqqGroupQuantize(
  columnMajor: ArrayLike<number>,
  k: number,
  columns: number,
  o: HqqOptions,
): GroupQuantized {
  if (o.symmetric) throw new ZeropointError("invalid-argument", "HQQ optimizes the zero point: use asymmetric blocks");
  const start = rtnGroupQuantize(columnMajor, k, columns, o);
  const blocks = Math.ceil(k / o.blockSize);
  const top = 2 ** o.bits - 1;
  const p = o.lpNorm ?? 0.7;
  const iterations = o.iterations ?? 20;
  const levels = new Uint8Array(start.levels);
  const zeroPoints = new Float32Array(start.zeroPoints);
  const w = new Float64Array(o.blockSize);
  const q = new Float64Array(o.blockSize);
  const best = new Uint8Array(o.blockSize);
  for (let c = 0; c < columns; c++) {
    for (let b = 0; b < blocks; b++) {
      const g = c * blocks + b;
      const scale = start.scales[g] as number;
      if (scale === 0) continue;
      const first = b * o.blockSize;
      const n = Math.min(o.blockSize, k - first);
      for (let i = 0; i < n; i++) w[i] = columnMajor[c * k + first + i] as number;
      // HQQ works with the inverse scale: q = round(w * inv + z), w ≈ (q - z) / inv.
      const inv = 1 / scale;
      let zero = zeroPoints[g] as number;
      let beta = o.beta ?? 10;
      let bestError = Number.POSITIVE_INFINITY;
      let bestZero = zero;
      for (let it = 0; it < iterations; it++) {
        let error = 0;
        let sum = 0;
        for (let i = 0; i < n; i++) {
          const level = Math.min(top, Math.max(0, roundHalfEven((w[i] as number) * inv + zero)));
          q[i] = level;
          const residual = (w[i] as number) - (level - zero) / inv;
          error += Math.abs(residual);
          const magnitude = Math.abs(residual);
          const shrunk = Math.sign(residual) * Math.max(0, magnitude - (1 / beta) * (magnitude + 1e-8) ** (p - 1));
          sum += level - ((w[i] as number) - shrunk) * inv;
        }
        error /= n;
        if (error < bestError) {
          bestError = error;
          bestZero = zero;
          for (let i = 0; i < n; i++) best[i] = q[i] as number;
        } else break;
        zero = sum / n;
        beta *= o.kappa ?? 1.01;
      }
      zeroPoints[g] = Math.fround(bestZero);
      for (let i = 0; i < n; i++) levels[c * k + first + i] = best[i] as number;
    }
  }
  return { ...start, levels, zeroPoints };
}
