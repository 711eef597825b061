/**
 * Tuning benchmark (`pnpm bench`): tunes each shared model on the even MNIST test half with
 * --max-loss 0.5% (recorded latency profiles), then measures float vs tuned latency in this run:
 * batch 64, one thread, median of 30 runs each, interleaved to share machine noise.
 */
import { additiveLatencyModel, parseCriterion, tune } from "@zeropoint/core";
import { mnistSplit } from "@zeropoint/test-helpers";
import * as ort from "onnxruntime-node";
import { createOnnxTuningAdapter, encodeModel, loadModel } from "../src/index.js";
import { mnistCalibration, mnistTestHalf, recordedProfile, sharedModelBytes } from "../test-fixtures/mnist-eval.js";

const test = mnistSplit("test");
const feeds = { input: new ort.Tensor("float32", test.images.subarray(0, 64 * 784), [64, 1, 28, 28]) };
const rows: string[] = [];
for (const name of ["cnn", "mlp", "transformer"]) {
  const { model } = loadModel(sharedModelBytes(name));
  const adapter = await createOnnxTuningAdapter(model, {
    calibrationData: () => mnistCalibration(),
    evaluation: mnistTestHalf("even"),
  });
  const result = await tune(adapter, {
    criterion: parseCriterion("0.5%"),
    latency: additiveLatencyModel(recordedProfile(name)),
    skipSensitivity: true,
  });
  if (result.best === undefined) throw new Error(`${name}: ${result.message}`);
  const options = { intraOpNumThreads: 1, interOpNumThreads: 1 };
  const sessions = {
    float: await ort.InferenceSession.create(encodeModel(model), options),
    allInt8: await ort.InferenceSession.create(
      encodeModel(await adapter.quantizeFor((await adapter.nodes()).map((n) => n.name))),
      options,
    ),
    tuned: await ort.InferenceSession.create(encodeModel(await adapter.quantizeFor(result.best.int8Nodes)), options),
  };
  const times: Record<string, number[]> = { float: [], allInt8: [], tuned: [] };
  for (const s of Object.values(sessions)) for (let i = 0; i < 5; i++) await s.run(feeds);
  for (let i = 0; i < 30; i++) {
    for (const [k, s] of Object.entries(sessions)) {
      const t = performance.now();
      await s.run(feeds);
      (times[k] as number[]).push(performance.now() - t);
    }
  }
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)] as number;
  const f = median(times.float as number[]);
  const a = median(times.allInt8 as number[]);
  const t = median(times.tuned as number[]);
  rows.push(
    `${name.padEnd(12)} float ${f.toFixed(3)} ms | all-int8 ${a.toFixed(3)} ms (${(f / a).toFixed(2)}x) | tuned ${t.toFixed(3)} ms (${(f / t).toFixed(2)}x), ${result.best.int8Nodes.length} int8 nodes, even-half accuracy ${result.best.metric.toFixed(4)} vs float ${result.float.metric.toFixed(4)}`,
  );
  for (const s of Object.values(sessions)) await s.release();
}
console.log("\n@zeropoint/onnx tuning benchmark (batch 64, 1 thread, median of 30 runs; speed as float/model time)\n");
for (const r of rows) console.log(r);
