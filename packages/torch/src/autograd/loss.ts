import { ZeropointError } from "@zeropoint/core";
import { result, type Tensor } from "./tensor.js";

/** Mean cross-entropy of logits [n, classes] against integer targets (F.cross_entropy). */
export function crossEntropy(logits: Tensor, targets: ArrayLike<number>): Tensor {
  if (logits.shape.length !== 2)
    throw new ZeropointError(
      "invalid-shape",
      `cross entropy expects [n, classes] logits, got rank ${logits.shape.length}`,
    );
  const [n, k] = logits.shape as [number, number];
  if (targets.length !== n) throw new ZeropointError("shape-mismatch", `${targets.length} targets for ${n} rows`);
  const probs = new Float32Array(logits.size);
  let loss = 0;
  for (let r = 0; r < n; r++) {
    let max = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < k; j++) max = Math.max(max, logits.data[r * k + j] as number);
    let s = 0;
    for (let j = 0; j < k; j++) s += Math.exp((logits.data[r * k + j] as number) - max);
    const t = targets[r] as number;
    if (!Number.isInteger(t) || t < 0 || t >= k)
      throw new ZeropointError("invalid-argument", `target ${t} at row ${r} is not a class in 0..${k - 1}`);
    loss += Math.log(s) + max - (logits.data[r * k + t] as number);
    for (let j = 0; j < k; j++) probs[r * k + j] = Math.exp((logits.data[r * k + j] as number) - max) / s;
  }
  return result(Float32Array.of(loss / n), [], [logits], "cross_entropy", (g) => {
    const gl = new Float32Array(logits.size);
    const scale = (g[0] as number) / n;
    for (let r = 0; r < n; r++)
      for (let j = 0; j < k; j++) gl[r * k + j] = ((probs[r * k + j] as number) - (j === targets[r] ? 1 : 0)) * scale;
    return [gl];
  });
}

/** Mean squared error (F.mse_loss). */
export function mseLoss(a: Tensor, b: Tensor): Tensor {
  if (a.size !== b.size) throw new ZeropointError("shape-mismatch", `mse of ${a.size} and ${b.size} elements`);
  let s = 0;
  for (let i = 0; i < a.size; i++) s += ((a.data[i] as number) - (b.data[i] as number)) ** 2;
  return result(Float32Array.of(s / a.size), [], [a, b], "mse_loss", (g) => {
    const k = (2 * (g[0] as number)) / a.size;
    return [
      Float32Array.from(a.data, (v, i) => (v - (b.data[i] as number)) * k),
      Float32Array.from(a.data, (v, i) => -(v - (b.data[i] as number)) * k),
    ];
  });
}
