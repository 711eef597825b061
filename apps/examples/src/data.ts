/** MNIST as the examples use it: the shared split, NCHW batches, and an accuracy helper. */
import { mnistSplit } from "@zeropoint/test-helpers";

export { sharedPath } from "@zeropoint/test-helpers";

/** The first `count` train images as batches of 32 (calibration data). */
export function calibrationBatches(count = 256): Float32Array[] {
  const train = mnistSplit("train");
  return Array.from({ length: Math.ceil(count / 32) }, (_, i) =>
    train.images.slice(i * 32 * 784, Math.min(count, (i + 1) * 32) * 784),
  );
}

/** Test-split accuracy of `predict` (NCHW [n, 1, 28, 28] in, [n, 10] logits out), over `count` images. */
export async function accuracy(
  predict: (x: Float32Array, n: number) => Float32Array | Promise<Float32Array>,
  count = 2004,
): Promise<number> {
  const test = mnistSplit("test");
  let ok = 0;
  for (let i = 0; i < count; i += 256) {
    const n = Math.min(256, count - i);
    const logits = await predict(test.images.subarray(i * 784, (i + n) * 784), n);
    for (let r = 0; r < n; r++) {
      let best = 0;
      for (let k = 1; k < 10; k++) if ((logits[r * 10 + k] as number) > (logits[r * 10 + best] as number)) best = k;
      if (best === test.labels[i + r]) ok++;
    }
  }
  return ok / count;
}
