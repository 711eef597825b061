/**
 * `pnpm bench` for @zeropoint/torch: quantized Linear and Conv2d against the float modules of the
 * same shapes (the shared CNN's c2 and l1), and one training step (float and QAT), all measured in
 * this run. Not part of the tests (tests never time things).
 */
import { Bench } from "tinybench";
import {
  Conv2d,
  convert,
  crossEntropy,
  DeQuantStub,
  fuseModulesQat,
  Linear,
  noGrad,
  prepare,
  prepareQat,
  QuantStub,
  QuantWrapper,
  Random,
  referenceCnn,
  Sequential,
  SGD,
  Tensor,
} from "../src/index.js";

function random(shape: number[], seed: number): Tensor {
  const r = new Random(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(
    Float32Array.from({ length: n }, () => r.uniform(1)),
    shape,
  );
}

/** A float module and its eager-quantized twin (calibrated on the benchmark input itself). */
function pair(module: Linear | Conv2d, input: Tensor): { float: QuantWrapper; int8: QuantWrapper } {
  const float = new QuantWrapper(module).eval();
  const int8 = new QuantWrapper(module).eval();
  prepare(int8);
  noGrad(() => int8.call(input));
  convert(int8);
  return { float, int8 };
}

const rows: { name: string; ms: number; baseline?: string }[] = [];
function mean(bench: Bench, name: string): number {
  const r = bench.getTask(name)?.result as { latency?: { mean: number } } | undefined;
  if (r?.latency === undefined) throw new Error(`benchmark ${name} produced no result`);
  return r.latency.mean;
}

const bench = new Bench({ iterations: 20, warmupIterations: 3, time: 0 });
const linearInput = random([64, 1568], 1);
const linear = pair(new Linear(1568, 128, { random: new Random(2) }), linearInput);
const convInput = random([16, 16, 14, 14], 3);
const conv = pair(new Conv2d(16, 32, 3, { padding: 1, random: new Random(4) }), convInput);
bench.add("Linear 64x1568->128 float", () => noGrad(() => linear.float.call(linearInput)));
bench.add("Linear 64x1568->128 int8", () => noGrad(() => linear.int8.call(linearInput)));
bench.add("Conv2d 16x16x14x14 -> 32 3x3 float", () => noGrad(() => conv.float.call(convInput)));
bench.add("Conv2d 16x16x14x14 -> 32 3x3 int8", () => noGrad(() => conv.int8.call(convInput)));

const batch = random([32, 1, 28, 28], 5);
const labels = Uint8Array.from({ length: 32 }, (_, i) => i % 10);
const floatModel = referenceCnn().train();
const floatOptimizer = new SGD(floatModel.parameters(), { lr: 1e-3, momentum: 0.9 });
const qatModel = new Sequential(
  ["quant", new QuantStub()],
  ["inner", referenceCnn()],
  ["dequant", new DeQuantStub()],
).train();
fuseModulesQat(qatModel, [
  ["inner.c1", "inner.b1", "inner.r1"],
  ["inner.c2", "inner.b2", "inner.r2"],
  ["inner.l1", "inner.r3"],
]);
prepareQat(qatModel);
const qatOptimizer = new SGD(qatModel.parameters(), { lr: 1e-3, momentum: 0.9 });
const step = (model: Sequential, optimizer: SGD) => () => {
  const loss = crossEntropy(model.call(batch), labels);
  optimizer.zeroGrad();
  loss.backward();
  optimizer.step();
};
const trainBench = new Bench({ iterations: 8, warmupIterations: 2, time: 0 });
trainBench.add("CNN training step (batch 32) float", step(floatModel, floatOptimizer));
trainBench.add("CNN training step (batch 32) QAT", step(qatModel, qatOptimizer));

await bench.run();
await trainBench.run();
for (const [b, name, baseline] of [
  [bench, "Linear 64x1568->128 float", undefined],
  [bench, "Linear 64x1568->128 int8", "Linear 64x1568->128 float"],
  [bench, "Conv2d 16x16x14x14 -> 32 3x3 float", undefined],
  [bench, "Conv2d 16x16x14x14 -> 32 3x3 int8", "Conv2d 16x16x14x14 -> 32 3x3 float"],
  [trainBench, "CNN training step (batch 32) float", undefined],
  [trainBench, "CNN training step (batch 32) QAT", "CNN training step (batch 32) float"],
] as const) {
  rows.push({ name, ms: mean(b, name), ...(baseline ? { baseline } : {}) });
}
const pad = (s: string, n: number) => s.padEnd(n);
console.log(`${pad("benchmark", 40)} ${pad("mean ms", 10)} speed vs float (target >= 1x for int8)`);
for (const row of rows) {
  const base = rows.find((r) => r.name === row.baseline);
  const ratio = base ? `${(base.ms / row.ms).toFixed(2)}x` : "baseline";
  console.log(`${pad(row.name, 40)} ${pad(row.ms.toFixed(2), 10)} ${ratio}`);
}
