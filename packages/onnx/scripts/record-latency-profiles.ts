/**
 * Records the latency profiles the tuning tests use (test-fixtures/profiles/<model>.json): measured
 * in onnxruntime-node on this machine, batch 64 of MNIST test images, one thread, median of 20 runs.
 * Tests read the recorded profiles so that tuning is repeatable; re-run this script to refresh them:
 *   pnpm --filter @zeropoint/onnx record-profiles
 */
import { writeFileSync } from "node:fs";
import { mnistSplit } from "@zeropoint/test-helpers";
import { createOnnxTuningAdapter, loadModel, measureLatencyProfile } from "../src/index.js";
import { mnistCalibration, sharedModelBytes } from "../test-fixtures/mnist-eval.js";

const test = mnistSplit("test");
const batch = { input: { data: test.images.subarray(0, 64 * 784), dims: [64, 1, 28, 28] } };
for (const name of process.argv.slice(2).length > 0 ? process.argv.slice(2) : ["cnn", "mlp", "transformer"]) {
  const { model } = loadModel(sharedModelBytes(name));
  const adapter = await createOnnxTuningAdapter(model, {
    calibrationData: () => mnistCalibration(),
    evaluation: { batches: [batch] },
  });
  const profile = await measureLatencyProfile(model, adapter, { batch, runs: 20, threads: 1 });
  const path = new URL(`../test-fixtures/profiles/${name}.json`, import.meta.url);
  writeFileSync(path, `${JSON.stringify(profile, null, 2)}\n`);
  console.log(
    `${name}: float ${profile.floatMs.toFixed(3)} ms, all-int8 ${profile.allInt8Ms?.toFixed(3)} ms,`,
    Object.fromEntries(Object.entries(profile.nodeDeltaMs).map(([k, v]) => [k, +v.toFixed(3)])),
  );
}
