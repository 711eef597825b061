import * as tf from "@tensorflow/tfjs-core";
import { mnistSplit } from "@zeropoint/test-helpers";

/**
 * The shared MNIST split as NHWC batches. With one channel, [n, 1, 28, 28] and [n, 28, 28, 1] have
 * the same memory layout, so the shared images are used as they are.
 */
export function mnistImages(
  split: "train" | "test",
  start = 0,
  count?: number,
): { x: Float32Array; labels: Uint8Array; count: number } {
  const s = mnistSplit(split);
  const n = Math.min(count ?? s.count - start, s.count - start);
  return {
    x: s.images.subarray(start * 784, (start + n) * 784),
    labels: s.labels.subarray(start, start + n),
    count: n,
  };
}

/** Top-1 accuracy of `predict` over the whole test split, in batches. */
export function mnistAccuracy(predict: (x: tf.Tensor4D) => tf.Tensor, batch = 256): number {
  const test = mnistSplit("test");
  let correct = 0;
  for (let i = 0; i < test.count; i += batch) {
    const n = Math.min(batch, test.count - i);
    const labels = tf.tidy(() => {
      const x = tf.tensor4d(test.images.subarray(i * 784, (i + n) * 784), [n, 28, 28, 1]);
      return tf.argMax(predict(x), -1).dataSync();
    });
    for (let j = 0; j < n; j++) if (labels[j] === test.labels[i + j]) correct++;
  }
  return correct / test.count;
}
