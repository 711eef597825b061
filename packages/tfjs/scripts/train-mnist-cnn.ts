/**
 * Trains the bundled MNIST CNN (test-fixtures/mnist-cnn/) on the wasm backend:
 * `pnpm --filter @zeropoint/tfjs exec node --conditions=@zeropoint/source --import tsx scripts/train-mnist-cnn.ts`.
 * Fixed seeds (initializers and the epoch shuffles), Adam, batch 32, 6 epochs over the 7,996-image
 * train split with the learning rate 1e-3 for four epochs, then 3e-4 and 1e-4 (a settled end
 * instead of a noisy last step). Prints the test accuracy; the tests re-measure it from the saved files.
 */
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { seededRandom } from "@zeropoint/test-helpers";
import { fileSystem } from "../src/io/file-system-io.js";
import { mnistAccuracy } from "../test-fixtures/mnist.js";
import { buildMnistCnn } from "../test-fixtures/mnist-cnn.js";
import { shuffledTrainSet } from "../test-fixtures/shuffled-train.js";
import { useBackend } from "../test-fixtures/tfjs-env.js";

await useBackend("wasm");
const model = buildMnistCnn(1);
const optimizer = tf.train.adam(1e-3);
model.compile({ optimizer, loss: (y, p) => tf.losses.softmaxCrossEntropy(y, p) });
const random = seededRandom(7);
const schedule = [1e-3, 1e-3, 1e-3, 1e-3, 3e-4, 1e-4];
const epochs = Number(process.env.EPOCHS ?? schedule.length);
for (let epoch = 0; epoch < epochs; epoch++) {
  // AdamOptimizer reads its learning rate on every step; tfjs has no scheduler API.
  (optimizer as unknown as { learningRate: number }).learningRate = schedule[
    Math.min(epoch, schedule.length - 1)
  ] as number;
  const { x, y } = shuffledTrainSet(random);
  const started = Date.now();
  const h = await model.fit(x, y, { batchSize: 32, epochs: 1, shuffle: false, verbose: 0 });
  x.dispose();
  y.dispose();
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const accuracy = mnistAccuracy((t) => model.predict(t) as tf.Tensor);
  console.log(
    `epoch ${epoch + 1}: loss ${Number(h.history.loss?.[0] ?? Number.NaN).toFixed(4)} in ${seconds} s, test accuracy ${accuracy.toFixed(4)}`,
  );
}
const out = process.env.OUT ?? join(import.meta.dirname, "../test-fixtures/mnist-cnn");
await model.save(fileSystem(out));
console.log(`saved ${out}`);
void tfl;
