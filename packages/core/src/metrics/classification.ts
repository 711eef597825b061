/**
 * Index of the largest value in each row of a row-major `[rows, values.length / rows]` array (the
 * first on ties, as `argmax` in NumPy and PyTorch).
 */
export function top1(values: ArrayLike<number>, rows: number): Int32Array {
  const classes = rows === 0 ? 0 : values.length / rows;
  const out = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++)
      if ((values[i * classes + c] as number) > (values[i * classes + best] as number)) best = c;
    out[i] = best;
  }
  return out;
}

/** Fraction of predicted classes equal to the labels; undefined without labels or rows. */
export function accuracy(predicted: Int32Array, labels: ArrayLike<number> | undefined): number | undefined {
  if (labels === undefined || predicted.length === 0) return undefined;
  let ok = 0;
  for (let i = 0; i < predicted.length; i++) if (predicted[i] === labels[i]) ok++;
  return ok / predicted.length;
}

/** Fraction of rows where two models predict the same class (1 for two empty sets). */
export function agreement(a: Int32Array, b: Int32Array): number {
  if (a.length === 0) return 1;
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

/** Largest absolute elementwise difference (NaN anywhere gives NaN, so a broken build never looks equal). */
export function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.NaN;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs((a[i] as number) - (b[i] as number));
    if (!(d <= worst)) worst = d;
  }
  return worst;
}
