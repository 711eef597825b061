/** Index of the largest value in each row of a row-major `[rows, values.length / rows]` array. */
export function top1(values: ArrayLike<number>, rows: number): Int32Array {
  const classes = values.length / rows;
  const out = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++)
      if ((values[i * classes + c] as number) > (values[i * classes + best] as number)) best = c;
    out[i] = best;
  }
  return out;
}
