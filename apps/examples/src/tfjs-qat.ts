// tfjs QAT: prepareQat, train with model.fit (a few batches here), convertQat.
import * as tf from "@tensorflow/tfjs-core";
import { mnistSplit } from "@zeropoint/test-helpers";
import { convertQat, prepareQat } from "@zeropoint/tfjs";
import { accuracy } from "./data.js";
import { loadCnn, predict } from "./tfjs-model.js";

const qat = await prepareQat(await loadCnn());
qat.compile({
  optimizer: tf.train.adam(1e-4),
  loss: (y: tf.Tensor, p: tf.Tensor) => tf.losses.softmaxCrossEntropy(y, p),
});
const train = mnistSplit("train");
const n = 512;
const idx = Array.from({ length: n }, (_, k) => (k * 7) % train.count);
const x = new Float32Array(n * 784);
for (const [k, i] of idx.entries()) x.set(train.images.subarray(i * 784, (i + 1) * 784), k * 784);
const y = tf.oneHot(
  tf.tensor1d(
    idx.map((i) => train.labels[i] as number),
    "int32",
  ),
  10,
);
await qat.fit(tf.tensor4d(x, [n, 28, 28, 1]), y, { batchSize: 32, epochs: 1, shuffle: false, verbose: 0 });
const { model } = await convertQat(qat);
console.log(`tfjs QAT: accuracy ${(await accuracy(predict(model))).toFixed(4)}`);
