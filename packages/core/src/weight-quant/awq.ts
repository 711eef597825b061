import { ZeropointError } from "../errors/zeropoint-error.js";
import {
  blockParams,
  dequantizeGroups,
  type GroupQuantized,
  type GroupQuantOptions,
  roundHalfEven,
  rtnGroupQuantize,
} from "./group-quant.js";

/** Options of {@link awqSearch}. */
export interface AwqOptions extends GroupQuantOptions {
  /** Candidate exponents alpha = 0, 1/grid, ..., (grid-1)/grid. Default 20 (llm-awq's grid). */
  readonly grid?: number;
  /**
   * AutoAWQ's duo scaling (its default): s_k = mean|x_k|^alpha / mean|w_k|^(1-alpha), with |w|
   * normalized by each block's largest magnitude, so a channel whose weights are already large
   * relative to its block is scaled up less. Default true; false is llm-awq's s_k = mean|x_k|^alpha.
   */
  readonly duoScaling?: boolean;
}

/** What {@link awqSearch} chose. */
export interface AwqResult {
  /** Per input channel (length k): the weights were multiplied by it, the activations must be divided. */
  readonly scales: Float32Array;
  readonly alpha: number;
  /** The blocks of the scaled weights. */
  readonly quantized: GroupQuantized;
  /** Mean squared output error on the calibration rows, chosen and at alpha = 0 (plain RTN). */
  readonly loss: number;
  readonly rtnLoss: number;
}

/**
 * Activation-aware weight quantization (Lin et al., 2023), the scale search of llm-awq: input
 * channels that carry large activations matter more, so the weights of channel k are multiplied by
 * s_k = mean|x_k|^alpha (normalized by sqrt(max * min)) before round-to-nearest blocks, and the
 * activations divided by s_k at run time, which leaves the float product unchanged and moves
 * quantization error onto the channels that are multiplied by small activations. alpha is chosen on
 * a grid by the mean squared error of the layer's output on calibration rows. alpha = 0 is plain
 * RTN, so the result is never worse than RTN on the rows it saw.
 *
 * `columnMajor[c * k + i]` is weight i (input channel) of output column c; `rows` is m activation
 * rows of length k.
 */
export function awqSearch(
  columnMajor: Float32Array,
  k: number,
  columns: number,
  rows: Float32Array,
  m: number,
  options: AwqOptions,
): AwqResult {
  if (rows.length !== m * k)
    throw new ZeropointError("shape-mismatch", `${rows.length} activations for ${m} rows of ${k}`);
  if (m === 0) throw new ZeropointError("empty-data", "AWQ needs calibration rows");
  const grid = options.grid ?? 20;
  const meanAbs = new Float64Array(k);
  for (let r = 0; r < m; r++)
    for (let i = 0; i < k; i++) meanAbs[i] = (meanAbs[i] as number) + Math.abs(rows[r * k + i] as number);
  for (let i = 0; i < k; i++) meanAbs[i] = Math.max((meanAbs[i] as number) / m, 1e-4);
  const duo = options.duoScaling ?? true;
  const weightMean = duo ? blockNormalizedMeanAbs(columnMajor, k, columns, options.blockSize) : undefined;
  // The float outputs once: [m][columns].
  const reference = matmul(rows, m, k, columnMajor, columns);
  const scaled = new Float32Array(columnMajor.length);
  const s = new Float32Array(k);
  let best: AwqResult | undefined;
  let rtnLoss = Number.NaN;
  for (let step = 0; step < grid; step++) {
    const alpha = step / grid;
    let lo = Number.POSITIVE_INFINITY;
    let hi = 0;
    for (let i = 0; i < k; i++) {
      const v =
        weightMean === undefined
          ? (meanAbs[i] as number) ** alpha
          : Math.max((meanAbs[i] as number) ** alpha / ((weightMean[i] as number) ** (1 - alpha) + 1e-4), 1e-4);
      s[i] = v;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    const norm = Math.sqrt(lo * hi);
    for (let i = 0; i < k; i++) s[i] = Math.fround((s[i] as number) / norm);
    for (let c = 0; c < columns; c++)
      for (let i = 0; i < k; i++) scaled[c * k + i] = (columnMajor[c * k + i] as number) * (s[i] as number);
    const q = rtnGroupQuantize(scaled, k, columns, { ...options, clipSearch: false });
    const dq = dequantizeGroups(q);
    // (x / s) @ Q(W s): divide the dequantized weights by s instead of every activation row.
    for (let c = 0; c < columns; c++)
      for (let i = 0; i < k; i++) dq[c * k + i] = (dq[c * k + i] as number) / (s[i] as number);
    const out = matmul(rows, m, k, dq, columns);
    let loss = 0;
    for (let j = 0; j < out.length; j++) {
      const d = (out[j] as number) - (reference[j] as number);
      loss += d * d;
    }
    loss /= out.length;
    if (step === 0) rtnLoss = loss;
    if (best === undefined || loss < best.loss)
      best = { scales: Float32Array.from(s), alpha, quantized: q, loss, rtnLoss };
  }
  const chosen = best as AwqResult;
  if (!options.clipSearch) return { ...chosen, rtnLoss };
  for (let c = 0; c < columns; c++)
    for (let i = 0; i < k; i++) scaled[c * k + i] = (columnMajor[c * k + i] as number) * (chosen.scales[i] as number);
  const clipped = outputErrorClip(scaled, k, columns, rows, m, chosen.scales, options);
  return { ...chosen, quantized: clipped, rtnLoss };
}

/**
 * AWQ's clipping search (llm-awq's auto_clip) on the scaled weights: per column and block, the
 * range shrunk by the ratio in 1, 0.95, ..., 0.55 that minimizes the block's share of the output
 * error on the calibration rows, mean_r (x_r,b . (w_b - q(w_b)))^2 with x the activations divided
 * by the AWQ scales. That is d^T G_b d with G_b the block's second-moment matrix of x, so the rows
 * are read once (G costs m k blockSize) and each candidate costs blockSize^2, not m blockSize.
 * Unlike a per-element weighting it sees correlated channels, whose errors cancel or add.
 */
export function outputErrorClip(
  scaledColumnMajor: Float32Array,
  k: number,
  columns: number,
  rows: Float32Array,
  m: number,
  scales: Float32Array,
  options: GroupQuantOptions,
): GroupQuantized {
  const bs = options.blockSize;
  const blocks = Math.ceil(k / bs);
  const gram = new Float64Array(blocks * bs * bs);
  const x = new Float64Array(bs);
  for (let r = 0; r < m; r++)
    for (let b = 0; b < blocks; b++) {
      const first = b * bs;
      const n = Math.min(bs, k - first);
      for (let i = 0; i < n; i++) x[i] = (rows[r * k + first + i] as number) / (scales[first + i] as number);
      const g = b * bs * bs;
      for (let i = 0; i < n; i++) {
        const xi = x[i] as number;
        for (let j = 0; j < n; j++) gram[g + i * bs + j] = (gram[g + i * bs + j] as number) + xi * (x[j] as number);
      }
    }
  const top = 2 ** options.bits - 1;
  const levels = new Uint8Array(k * columns);
  const outScales = new Float32Array(columns * blocks);
  const zeroPoints = new Float32Array(columns * blocks);
  const d = new Float64Array(bs);
  for (let c = 0; c < columns; c++)
    for (let b = 0; b < blocks; b++) {
      const first = c * k + b * bs;
      const n = Math.min(bs, k - b * bs);
      let lo = 0;
      let hi = 0;
      let absmax = 0;
      for (let i = 0; i < n; i++) {
        const v = scaledColumnMajor[first + i] as number;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
        if (Math.abs(v) > Math.abs(absmax)) absmax = v;
      }
      let bestScale = 0;
      let bestZp = 0;
      let bestError = Number.POSITIVE_INFINITY;
      for (let step = 0; step < 10; step++) {
        const ratio = 1 - step * 0.05;
        const { scale, zp } = blockParams(lo * ratio, hi * ratio, absmax * ratio, options.bits, options.symmetric);
        const inv = scale === 0 ? 0 : 1 / scale;
        for (let i = 0; i < n; i++) {
          const v = scaledColumnMajor[first + i] as number;
          const level = Math.min(top, Math.max(0, roundHalfEven(v * inv) + zp));
          d[i] = v - (level - zp) * scale;
        }
        const g = b * bs * bs;
        let error = 0;
        for (let i = 0; i < n; i++) {
          let row = 0;
          for (let j = 0; j < n; j++) row += (gram[g + i * bs + j] as number) * (d[j] as number);
          error += (d[i] as number) * row;
        }
        if (error < bestError) {
          bestError = error;
          bestScale = scale;
          bestZp = zp;
        }
      }
      outScales[c * blocks + b] = bestScale;
      zeroPoints[c * blocks + b] = bestZp;
      const inv = bestScale === 0 ? 0 : 1 / bestScale;
      for (let i = 0; i < n; i++)
        levels[first + i] = Math.min(
          top,
          Math.max(0, roundHalfEven((scaledColumnMajor[first + i] as number) * inv) + bestZp),
        );
    }
  return { bits: options.bits, blockSize: bs, columns, k, levels, scales: outScales, zeroPoints };
}

/** Per input channel: mean over columns of |w| divided by its block's largest magnitude. */
function blockNormalizedMeanAbs(columnMajor: Float32Array, k: number, columns: number, bs: number): Float64Array {
  const out = new Float64Array(k);
  for (let c = 0; c < columns; c++)
    for (let first = 0; first < k; first += bs) {
      const end = Math.min(first + bs, k);
      let max = 0;
      for (let i = first; i < end; i++) max = Math.max(max, Math.abs(columnMajor[c * k + i] as number));
      if (max === 0) continue;
      for (let i = first; i < end; i++) out[i] = (out[i] as number) + Math.abs(columnMajor[c * k + i] as number) / max;
    }
  for (let i = 0; i < k; i++) out[i] = (out[i] as number) / columns;
  return out;
}

/** rows [m][k] times columns [n][k] transposed: [m][n], accumulated in float64. */
function matmul(rows: Float32Array, m: number, k: number, columnMajor: Float32Array, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let r = 0; r < m; r++) {
    const x = rows.subarray(r * k, (r + 1) * k);
    for (let c = 0; c < n; c++) {
      const w = columnMajor.subarray(c * k, (c + 1) * k);
      let acc = 0;
      for (let i = 0; i < k; i++) acc += (x[i] as number) * (w[i] as number);
      out[r * n + c] = acc;
    }
  }
  return out;
}
