import { ZeropointError } from "../errors/zeropoint-error.js";
import { dequantizeGroups, type GroupQuantized, type GroupQuantOptions, rtnGroupQuantize } from "./group-quant.js";

/** Options of {@link awqSearch}. */
export interface AwqOptions extends GroupQuantOptions {
  /** Candidate exponents alpha = 0, 1/grid, ..., (grid-1)/grid. Default 20 (llm-awq's grid). */
  readonly grid?: number;
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
      const v = (meanAbs[i] as number) ** alpha;
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
  // Clipping on the chosen scales, weighted by each channel's output influence: an error e_k in a
  // scaled weight reaches the output as e_k * x_k / s_k, so its weight is mean(x_k^2) / s_k^2.
  const importance = new Float64Array(k);
  for (let r = 0; r < m; r++)
    for (let i = 0; i < k; i++) importance[i] = (importance[i] as number) + (rows[r * k + i] as number) ** 2;
  for (let i = 0; i < k; i++) importance[i] = (importance[i] as number) / m / (chosen.scales[i] as number) ** 2;
  for (let c = 0; c < columns; c++)
    for (let i = 0; i < k; i++) scaled[c * k + i] = (columnMajor[c * k + i] as number) * (chosen.scales[i] as number);
  const clipped = rtnGroupQuantize(scaled, k, columns, { ...options, importance });
  return { ...chosen, quantized: clipped, rtnLoss };
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
