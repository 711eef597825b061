import * as tf from "@tensorflow/tfjs-core";
import { mnistImages } from "./mnist.js";

/**
 * The whole train split in an order drawn from `random` (Fisher–Yates), as NHWC images and one-hot
 * labels. `random` is a stream (e.g. `seededRandom(7)`) so successive epochs get successive orders.
 */
export function shuffledTrainSet(random: () => number): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const train = mnistImages("train");
  const order = Array.from({ length: train.count }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  const xs = new Float32Array(train.count * 784);
  const ys = new Int32Array(train.count);
  for (const [k, i] of order.entries()) {
    xs.set(train.x.subarray(i * 784, (i + 1) * 784), k * 784);
    ys[k] = train.labels[i] as number;
  }
  return { x: tf.tensor4d(xs, [train.count, 28, 28, 1]), y: tf.oneHot(tf.tensor1d(ys, "int32"), 10) as tf.Tensor2D };
}
