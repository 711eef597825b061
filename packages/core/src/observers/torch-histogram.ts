/**
 * Float32-faithful reimplementation of the histogram arithmetic of PyTorch's `HistogramObserver`
 * (torch.ao.quantization, 2.11: `histc` binning, `_upscale_histogram` with upsample rate 16,
 * `_combine_histograms`, and the `_non_linear_param_search` L2 clipping search). Every tensor op of
 * the reference runs in float32, so each step here is wrapped in `Math.fround`; sums that PyTorch
 * accumulates in double (`cumsum`) are accumulated in double and stored as float32.
 */

const f32 = Math.fround;
const UPSAMPLE_RATE = 16;

/** A histogram over `[min, max]` with `counts.length` equal bins. */
export interface TorchHistogram {
  counts: Float32Array;
  min: number;
  max: number;
}

/**
 * `torch.histc(x, bins, min, max)` added into `counts`: float32 linear interpolation
 * `trunc((x - left) * bins / (right - left))`, values outside `[left, right]` and NaN dropped,
 * the right edge in the last bin. Equal `min`/`max` widen to `[min - 1, max + 1]` as histc does.
 */
export function histcInto(counts: Float32Array, data: Float32Array, min: number, max: number): void {
  let left = f32(min);
  let right = f32(max);
  if (left === right) {
    left = f32(min - 1);
    right = f32(max + 1);
  }
  const bins = counts.length;
  const width = f32(right - left);
  for (let i = 0; i < data.length; i++) {
    const x = data[i] as number;
    if (!(x >= left && x <= right)) continue;
    let pos = Math.trunc(f32(f32(f32(x - left) * bins) / width));
    if (pos >= bins) pos = bins - 1;
    counts[pos] = (counts[pos] as number) + 1;
  }
}

/** float32 `torch.linspace(start, end, steps)` (CPU kernel: from the start below halfway, from the end above). */
export function linspaceF32(start: number, end: number, steps: number): Float32Array {
  const out = new Float32Array(steps);
  const s = f32(start);
  const e = f32(end);
  if (steps === 1) {
    out[0] = s;
    return out;
  }
  const step = f32(f32(e - s) / (steps - 1));
  const halfway = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) {
    out[i] = i < halfway ? f32(s + f32(step * i)) : f32(e - f32(step * (steps - i - 1)));
  }
  return out;
}

/** `_upscale_histogram`: re-bins `hist` over `[origMin, origMax]` onto `[newMin, newMax]`. */
export function upscaleHistogram(
  hist: Float32Array,
  origMin: number,
  origMax: number,
  newMin: number,
  newMax: number,
): Float32Array {
  const bins = hist.length;
  const fine = bins * UPSAMPLE_RATE;
  const binSize = f32(f32(origMax - origMin) / fine);
  const half = f32(0.5 * binSize);
  const points = linspaceF32(origMin, origMax, fine + 1);
  const boundaries = linspaceF32(newMin, newMax, bins + 1);
  const out = new Float32Array(bins);
  for (let k = 0; k < fine; k++) {
    const mid = f32((points[k] as number) + half);
    // bucketize(right=True) - 1: the number of boundaries <= mid, minus one.
    let lo = 0;
    let hi = boundaries.length;
    while (lo < hi) {
      const m = (lo + hi) >>> 1;
      if ((boundaries[m] as number) <= mid) lo = m + 1;
      else hi = m;
    }
    let bucket = lo - 1;
    if (bucket >= bins) bucket = bins - 1;
    if (bucket < 0) bucket = 0;
    const weight = f32((hist[Math.floor(k / UPSAMPLE_RATE)] as number) / UPSAMPLE_RATE);
    out[bucket] = (out[bucket] as number) + weight;
  }
  return out;
}

/**
 * `_combine_histograms`: `update` already covers `[newMin, newMax]`; the original histogram is
 * moved there. Reproduces PyTorch's degenerate branch exactly, including that it scales the
 * single-value original by the *update's* total (a quirk of the reference).
 */
export function combineHistograms(
  orig: Float32Array,
  origMin: number,
  origMax: number,
  update: Float32Array,
  newMin: number,
  newMax: number,
): Float32Array {
  const bins = orig.length;
  const out = new Float32Array(bins);
  if (newMin === origMin && newMax === origMax) {
    for (let i = 0; i < bins; i++) out[i] = (orig[i] as number) + (update[i] as number);
    return out;
  }
  if (origMin === origMax) {
    let total = 0;
    for (let i = 0; i < bins; i++) total += update[i] as number;
    const single = new Float32Array(bins);
    histcInto(single, Float32Array.of(origMin), newMin, newMax);
    for (let i = 0; i < bins; i++) out[i] = f32((single[i] as number) * f32(total)) + (update[i] as number);
    return out;
  }
  const moved = upscaleHistogram(orig, origMin, origMax, newMin, newMax);
  for (let i = 0; i < bins; i++) out[i] = (update[i] as number) + (moved[i] as number);
  return out;
}

/** Adds a batch to a histogram state the way `HistogramObserver.forward` does. */
export function observeIntoHistogram(
  state: TorchHistogram,
  data: Float32Array,
  batchMin: number,
  batchMax: number,
): void {
  const bins = state.counts.length;
  if (state.min === Number.POSITIVE_INFINITY || state.max === Number.NEGATIVE_INFINITY) {
    state.counts.fill(0);
    histcInto(state.counts, data, batchMin, batchMax);
    state.min = batchMin;
    state.max = batchMax;
    return;
  }
  const newMin = Math.min(state.min, batchMin);
  const newMax = Math.max(state.max, batchMax);
  const update = new Float32Array(bins);
  histcInto(update, data, newMin, newMax);
  if (newMin === state.min && newMax === state.max) {
    for (let i = 0; i < bins; i++) state.counts[i] = (state.counts[i] as number) + (update[i] as number);
    return;
  }
  state.counts = combineHistograms(state.counts, state.min, state.max, update, newMin, newMax);
  state.min = newMin;
  state.max = newMax;
}

/** Merges two histograms of disjoint data into one over the union range. */
export function mergeHistograms(a: TorchHistogram, b: TorchHistogram): TorchHistogram {
  if (b.min > b.max) return { counts: Float32Array.from(a.counts), min: a.min, max: a.max };
  if (a.min > a.max) return { counts: Float32Array.from(b.counts), min: b.min, max: b.max };
  const min = Math.min(a.min, b.min);
  const max = Math.max(a.max, b.max);
  const bins = a.counts.length;
  const moveTo = (h: TorchHistogram): Float32Array => {
    if (h.min === min && h.max === max) return h.counts;
    if (h.min === h.max) {
      let total = 0;
      for (let i = 0; i < bins; i++) total += h.counts[i] as number;
      const single = new Float32Array(bins);
      histcInto(single, Float32Array.of(h.min), min, max);
      for (let i = 0; i < bins; i++) single[i] = f32((single[i] as number) * f32(total));
      return single;
    }
    return upscaleHistogram(h.counts, h.min, h.max, min, max);
  };
  const ca = moveTo(a);
  const cb = moveTo(b);
  const counts = new Float32Array(bins);
  for (let i = 0; i < bins; i++) counts[i] = (ca[i] as number) + (cb[i] as number);
  return { counts, min, max };
}

/** Python-style floor division of float32 values (`torch.div(..., rounding_mode="floor")`). */
function floorDivF32(a: number, b: number): number {
  const mod = a % b;
  let div = f32(f32(a - mod) / b);
  if (mod !== 0 && b < 0 !== mod < 0) div = f32(div - 1);
  if (div === 0) return 0;
  let floordiv = Math.floor(div);
  if (div - floordiv > 0.5) floordiv += 1;
  return floordiv;
}

function normF32(begin: number, end: number, density: number): number {
  const e3 = f32(f32(end * end) * end);
  const b3 = f32(f32(begin * begin) * begin);
  return f32(density * f32(f32(e3 - b3) / 3));
}

/**
 * `_compute_quantization_error`: L2 error of quantizing the histogram into `dstBins` uniform bins
 * over source bins `startBin..endBin`, assuming uniform density inside each source bin.
 */
export function computeQuantizationError(
  hist: Float32Array,
  min: number,
  max: number,
  startBin: number,
  endBin: number,
  dstBins: number,
): number {
  const bins = hist.length;
  const binWidth = (max - min) / bins; // Python float
  const dstWidth = (binWidth * (endBin - startBin + 1)) / dstBins;
  if (dstWidth === 0) return 0;
  const bw = f32(binWidth);
  const dw = f32(dstWidth);
  const halfDst = f32(dstWidth / 2);
  const negHalfDst = f32(-dstWidth / 2);
  const middleNorm = f32(
    f32(f32(f32(halfDst * halfDst) * halfDst) - f32(f32(negHalfDst * negHalfDst) * negHalfDst)) / 3,
  );
  let total = 0;
  for (let i = 0; i < bins; i++) {
    const h = hist[i] as number;
    if (h === 0) continue;
    const begin = f32(f32(i - startBin) * bw);
    const end = f32(begin + bw);
    let dBegin = floorDivF32(begin, dw);
    dBegin = dBegin < 0 ? 0 : dBegin > dstBins - 1 ? dstBins - 1 : dBegin;
    const beginCenter = f32(f32(dBegin + 0.5) * dw);
    let dEnd = floorDivF32(end, dw);
    dEnd = dEnd < 0 ? 0 : dEnd > dstBins - 1 ? dstBins - 1 : dEnd;
    const density = f32(h / bw);
    let norm = normF32(f32(begin - beginCenter), halfDst, density);
    norm = f32(norm + f32((dEnd - dBegin - 1) * f32(middleNorm * density)));
    const endCenter = f32(f32(dEnd * dw) + halfDst);
    norm = f32(norm + normF32(negHalfDst, f32(end - endCenter), density));
    total += norm;
  }
  return f32(total);
}

/**
 * `_non_linear_param_search`: greedy trimming of the histogram tails by 1e-5 quantile steps while
 * the L2 quantization error keeps decreasing. Returns the clipped `[min, max]` in float32.
 */
export function nonLinearParamSearch(state: TorchHistogram, dstBins: number): { min: number; max: number } {
  const hist = state.counts;
  const bins = hist.length;
  const binWidth = f32(f32(state.max - state.min) / bins);
  let totalD = 0;
  const cSum = new Float32Array(bins);
  for (let i = 0; i < bins; i++) {
    totalD += hist[i] as number;
    cSum[i] = totalD;
  }
  const total = f32(totalD);
  const stepsize = 1e-5;
  let alpha = 0;
  let beta = 1;
  let startBin = 0;
  let endBin = bins - 1;
  let normMin = Number.POSITIVE_INFINITY;
  while (alpha < beta) {
    const nextAlpha = alpha + stepsize;
    const nextBeta = beta - stepsize;
    // Tensor-vs-Python-float comparisons run in float32.
    const lowBound = f32(nextAlpha * total);
    const highBound = f32(nextBeta * total);
    let l = startBin;
    let r = endBin;
    while (l < endBin && (cSum[l] as number) < lowBound) l++;
    while (r > startBin && (cSum[r] as number) > highBound) r--;
    let nextStart = startBin;
    let nextEnd = endBin;
    if (l - startBin > endBin - r) {
      nextStart = l;
      alpha = nextAlpha;
    } else {
      nextEnd = r;
      beta = nextBeta;
    }
    if (nextStart === startBin && nextEnd === endBin) continue;
    const norm = computeQuantizationError(hist, state.min, state.max, nextStart, nextEnd, dstBins);
    if (norm > normMin) break;
    normMin = norm;
    startBin = nextStart;
    endBin = nextEnd;
  }
  return {
    min: f32(state.min + f32(binWidth * startBin)),
    max: f32(state.min + f32(binWidth * (endBin + 1))),
  };
}
