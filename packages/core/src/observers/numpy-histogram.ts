/**
 * The parts of numpy's `histogram` and onnxruntime's `HistogramCollector` that calibration depends
 * on, in float32 as the reference runs them on float32 activations.
 */

const f32 = Math.fround;

/** float32 `numpy.linspace(start, stop, num)`: `i * step + start`, last value exactly `stop`. */
export function numpyLinspaceF32(start: number, stop: number, num: number): Float32Array {
  const out = new Float32Array(num);
  const s = f32(start);
  const e = f32(stop);
  const div = num - 1;
  const step = f32(f32(e - s) / div);
  for (let i = 0; i < num; i++) out[i] = f32(f32(i * step) + s);
  if (num > 1) out[num - 1] = e;
  return out;
}

/** Outer edges as numpy picks them: an empty range is widened by 0.5 on each side. */
export function numpyOuterEdges(first: number, last: number): [number, number] {
  const a = f32(first);
  const b = f32(last);
  return a === b ? [f32(a - 0.5), f32(b + 0.5)] : [a, b];
}

/**
 * Adds `values` (or their absolute values) into `counts` over float32 `edges`, with numpy's
 * equal-bin fast path and its one-ULP edge corrections. Returns how many finite values fell
 * outside the edges (numpy silently drops them). NaN is skipped.
 */
export function numpyHistogramInto(
  counts: Float64Array,
  edges: Float32Array,
  values: Float32Array,
  absolute: boolean,
): number {
  const n = counts.length;
  const first = edges[0] as number;
  const last = edges[n] as number;
  const denom = f32(last - first);
  let outside = 0;
  for (let i = 0; i < values.length; i++) {
    let x = values[i] as number;
    if (Number.isNaN(x)) continue;
    if (absolute && x < 0) x = -x;
    if (!(x >= first && x <= last)) {
      outside++;
      continue;
    }
    let idx = Math.trunc(f32(f32(f32(x - first) / denom) * n));
    if (idx === n) idx = n - 1;
    if (x < (edges[idx] as number)) idx--;
    else if (idx !== n - 1 && x >= (edges[idx + 1] as number)) idx++;
    counts[idx] = (counts[idx] as number) + 1;
  }
  return outside;
}

/** onnxruntime `smooth_distribution` (eps 1e-4) in float32; undefined when all entries are zero. */
function smooth(p: Float64Array, out: Float32Array): boolean {
  let zeros = 0;
  for (let i = 0; i < p.length; i++) if (p[i] === 0) zeros++;
  const nonzeros = p.length - zeros;
  if (nonzeros === 0) return false;
  const eps = 1e-4;
  const eps1 = (eps * zeros) / nonzeros;
  const add0 = f32(eps);
  const add1 = f32(-eps1);
  for (let i = 0; i < p.length; i++) out[i] = f32(f32(p[i] as number) + (p[i] === 0 ? add0 : add1));
  return true;
}

/** onnxruntime's float32 `entropy(p, q)` = KL(p || q) after normalising both. */
function klDivergence(p: Float32Array, q: Float32Array, length: number): number {
  let sp = 0;
  let sq = 0;
  for (let i = 0; i < length; i++) {
    sp += p[i] as number;
    sq += q[i] as number;
  }
  const sumP = f32(sp);
  const sumQ = f32(sq);
  let total = 0;
  for (let i = 0; i < length; i++) {
    const pk = f32((p[i] as number) / sumP);
    const qk = f32((q[i] as number) / sumQ);
    if (pk > 0 && qk > 0) total += f32(pk * f32(Math.log(f32(pk / qk))));
    else if (!(pk === 0 && qk >= 0)) return Number.POSITIVE_INFINITY;
  }
  return f32(total);
}

/**
 * onnxruntime `get_entropy_threshold`: for each candidate window of the histogram around its middle
 * bin, KL divergence between the window (outliers folded into its end bins) and its quantization to
 * `quantizedBins` levels; returns the edges of the best window. Reproduces the reference's integer
 * truncation of the expanded `q`.
 */
export function entropyThreshold(
  counts: Float64Array,
  edges: Float32Array,
  quantizedBins: number,
): { low: number; high: number } {
  const n = counts.length;
  const zero = Math.floor(n / 2);
  const half = Math.floor(quantizedBins / 2);
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = (prefix[i] as number) + (counts[i] as number);
  const p = new Float64Array(n);
  const q = new Float64Array(n);
  const pSmooth = new Float32Array(n);
  const qSmooth = new Float32Array(n);
  const quantized = new Float64Array(quantizedBins);
  let best = Number.POSITIVE_INFINITY;
  let bestLow = edges[0] as number;
  let bestHigh = edges[n] as number;
  let first = true;
  for (let i = half; i <= zero; i++) {
    const start = zero - i;
    const end = Math.min(zero + i + 1, n);
    const len = end - start;
    for (let k = 0; k < len; k++) p[k] = counts[start + k] as number;
    p[0] = (p[0] as number) + (prefix[start] as number);
    p[len - 1] = (p[len - 1] as number) + ((prefix[n] as number) - (prefix[end] as number));
    const merged = Math.floor(len / quantizedBins);
    quantized.fill(0);
    for (let j = 0; j < quantizedBins; j++) {
      const s = start + j * merged;
      quantized[j] = (prefix[s + merged] as number) - (prefix[s] as number);
    }
    quantized[quantizedBins - 1] =
      (quantized[quantizedBins - 1] as number) +
      ((prefix[end] as number) - (prefix[start + quantizedBins * merged] as number));
    q.fill(0, 0, len);
    for (let j = 0; j < quantizedBins; j++) {
      const s = j * merged;
      let nonzero = 0;
      for (let k = s; k < s + merged; k++) if (p[k] !== 0) nonzero++;
      if (nonzero !== 0) {
        const v = Math.trunc((quantized[j] as number) / nonzero);
        for (let k = s; k < s + merged; k++) q[k] = v;
      }
    }
    let kl: number;
    const pv = p.subarray(0, len);
    const qv = q.subarray(0, len);
    if (smooth(pv, pSmooth) && smooth(qv, qSmooth)) kl = klDivergence(pSmooth, qSmooth, len);
    else kl = Number.POSITIVE_INFINITY;
    // numpy argmin: first minimum; an all-infinite list picks the first candidate.
    if (first || kl < best) {
      first = false;
      best = kl;
      bestLow = edges[start] as number;
      bestHigh = edges[end] as number;
    }
  }
  return { low: bestLow, high: bestHigh };
}

/** numpy `searchsorted(a, v)` (side left) on an ascending array. */
function searchSorted(a: Float64Array, v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const m = (lo + hi) >>> 1;
    if ((a[m] as number) < v) lo = m + 1;
    else hi = m;
  }
  return lo;
}

/** onnxruntime `compute_percentile` on one histogram. */
export function percentileThreshold(
  counts: Float64Array,
  edges: Float32Array,
  percentile: number,
  symmetric: boolean,
): { low: number; high: number } {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i] as number;
  const cdf = new Float64Array(counts.length);
  let acc = 0;
  for (let i = 0; i < counts.length; i++) {
    acc += (counts[i] as number) / total;
    cdf[i] = acc;
  }
  if (symmetric) {
    const idx = Math.min(searchSorted(cdf, percentile / 100), edges.length - 1);
    const t = edges[idx] as number;
    return { low: -t, high: t };
  }
  const cut = (100 - percentile) / 200;
  const right = Math.min(searchSorted(cdf, 1 - cut), edges.length - 1);
  const left = Math.min(searchSorted(cdf, cut), edges.length - 1);
  return { low: edges[left] as number, high: edges[right] as number };
}
