import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { fileSystem } from "../src/io/file-system-io.js";
import { mnistImages } from "./mnist.js";

/** The bundled CNN, trained by scripts/train-mnist-cnn.ts on the wasm backend. */
export const BUNDLED_CNN = join(import.meta.dirname, "mnist-cnn", "model.json");

/** Loads the bundled CNN with stock `tf.loadLayersModel` through the file-system handler. */
export function loadBundledCnn(): Promise<tfl.LayersModel> {
  return tfl.loadLayersModel(fileSystem(BUNDLED_CNN));
}

/** The shared calibration set: the first 256 train images, as 8 batches of 32. */
export function calibrationBatches(count = 256, batch = 32): Float32Array[] {
  const train = mnistImages("train", 0, count);
  return Array.from({ length: Math.ceil(count / batch) }, (_, i) =>
    train.x.subarray(i * batch * 784, Math.min(count, (i + 1) * batch) * 784),
  );
}

/** Arg-max per row of a [n, classes] array. */
export function top1(values: ArrayLike<number>, classes = 10): Int32Array {
  const n = values.length / classes;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++)
      if ((values[i * classes + c] as number) > (values[i * classes + best] as number)) best = c;
    out[i] = best;
  }
  return out;
}

/** Predicts a whole float array in batches and returns the concatenated output. */
export function predictAll(
  model: { predict(x: tf.Tensor): tf.Tensor | tf.Tensor[] },
  x: Float32Array,
  batch = 256,
): Float32Array {
  const n = x.length / 784;
  const parts: Float32Array[] = [];
  for (let i = 0; i < n; i += batch) {
    const m = Math.min(batch, n - i);
    parts.push(
      tf.tidy(() => {
        const out = model.predict(tf.tensor4d(x.subarray(i * 784, (i + m) * 784), [m, 28, 28, 1]));
        return (Array.isArray(out) ? (out[0] as tf.Tensor) : out).dataSync() as Float32Array;
      }),
    );
  }
  const total = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    total.set(p, at);
    at += p.length;
  }
  return total;
}
