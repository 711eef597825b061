/**
 * `pnpm bench` for @zeropoint/tfjs, all measured in this run on the bundled MNIST CNN:
 * float vs fake-quantized (emulated int8) inference on the cpu and wasm backends, and one training
 * step (batch 32) of the float model vs its QAT twin on wasm. Ratios are float time / other time,
 * so below 1x means slower than float: emulation adds work, it is not an int8 speed-up (tfjs has
 * no integer kernels). Not part of the tests.
 */
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { Bench } from "tinybench";
import { prepareQat } from "../src/qat/prepare-qat.js";
import { quantizeStatic } from "../src/static/quantize-static.js";
import { mnistImages } from "../test-fixtures/mnist.js";
import { calibrationBatches, loadBundledCnn } from "../test-fixtures/models.js";
import { type TestBackend, useBackend } from "../test-fixtures/tfjs-env.js";

const rows: { name: string; ms: number; baseline?: string }[] = [];
function mean(bench: Bench, name: string): number {
  const r = bench.getTask(name)?.result as { latency?: { mean: number } } | undefined;
  if (r?.latency === undefined) throw new Error(`benchmark ${name} produced no result`);
  return r.latency.mean;
}

const test = mnistImages("test", 0, 64);
const train = mnistImages("train", 0, 32);

for (const backend of ["cpu", "wasm"] as TestBackend[]) {
  await useBackend(backend);
  const float = await loadBundledCnn();
  const { model: fq } = await quantizeStatic(float, { calibration: calibrationBatches() });
  const x = tf.tensor4d(test.x, [64, 28, 28, 1]);
  const infer = (m: tfl.LayersModel) => () => tf.tidy(() => (m.predict(x) as tf.Tensor).dataSync());
  const bench = new Bench({ iterations: 20, warmupIterations: 3, time: 0 });
  const floatName = `${backend}: inference batch 64 float`;
  const fqName = `${backend}: inference batch 64 fake-quant`;
  bench.add(floatName, infer(float));
  bench.add(fqName, infer(fq));
  await bench.run();
  rows.push({ name: floatName, ms: mean(bench, floatName) });
  rows.push({ name: fqName, ms: mean(bench, fqName), baseline: floatName });
  x.dispose();
}

await useBackend("wasm");
const floatModel = await loadBundledCnn();
const qat = await prepareQat(floatModel);
const loss = (y: tf.Tensor, p: tf.Tensor) => tf.losses.softmaxCrossEntropy(y, p);
floatModel.compile({ optimizer: tf.train.adam(1e-4), loss });
qat.compile({ optimizer: tf.train.adam(1e-4), loss });
const xb = tf.tensor4d(train.x, [32, 28, 28, 1]);
const yb = tf.oneHot(tf.tensor1d(Int32Array.from(train.labels), "int32"), 10);
const trainBench = new Bench({ iterations: 10, warmupIterations: 2, time: 0 });
trainBench.add("wasm: training step batch 32 float", async () => {
  await floatModel.trainOnBatch(xb, yb);
});
trainBench.add("wasm: training step batch 32 QAT", async () => {
  await qat.trainOnBatch(xb, yb);
});
await trainBench.run();
rows.push({ name: "wasm: training step batch 32 float", ms: mean(trainBench, "wasm: training step batch 32 float") });
rows.push({
  name: "wasm: training step batch 32 QAT",
  ms: mean(trainBench, "wasm: training step batch 32 QAT"),
  baseline: "wasm: training step batch 32 float",
});

const pad = (s: string, n: number) => s.padEnd(n);
console.log(`${pad("benchmark", 44)} ${pad("mean ms", 10)} speed vs float (float ms / ms)`);
for (const row of rows) {
  const base = rows.find((r) => r.name === row.baseline);
  const ratio = base ? `${(base.ms / row.ms).toFixed(2)}x` : "baseline";
  console.log(`${pad(row.name, 44)} ${pad(row.ms.toFixed(2), 10)} ${ratio}`);
}
