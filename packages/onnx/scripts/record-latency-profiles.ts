/**
 * Records the latency profiles the tuning tests use (test-fixtures/profiles/<model>.json): measured
 * in onnxruntime-node on this machine, batch 64 of MNIST test images, one thread, median of 20 runs,
 * for the float model, the all-int8 model, each node alone in int8, and the plans the tuning tests
 * verify (their candidates depend only on these deltas and on accuracy). Tests read the recorded
 * profiles so that tuning is repeatable; refresh them with:
 *   pnpm --filter @zeropoint/onnx record-profiles
 */
import { writeFileSync } from "node:fs";
import { additiveLatencyModel, parseCriterion, tune } from "@zeropoint/core";
import { mnistSplit } from "@zeropoint/test-helpers";
import {
  createOnnxTuningAdapter,
  encodeModel,
  loadModel,
  measureLatencyProfile,
  measurePlanLatency,
} from "../src/index.js";
import { mnistCalibration, mnistTestHalf, sharedModelBytes } from "../test-fixtures/mnist-eval.js";

const test = mnistSplit("test");
const batch = { input: { data: test.images.subarray(0, 64 * 784), dims: [64, 1, 28, 28] } };
/** The criteria the tuning tests use, per model. */
const criteria: Record<string, string[]> = { cnn: ["0.5%"], mlp: ["0.5%"], transformer: ["0.5%", "0.05%"] };
for (const name of process.argv.slice(2).length > 0 ? process.argv.slice(2) : ["cnn", "mlp", "transformer"]) {
  const { model } = loadModel(sharedModelBytes(name));
  const adapter = await createOnnxTuningAdapter(model, {
    calibrationData: () => mnistCalibration(),
    evaluation: mnistTestHalf("even"),
  });
  const base = await measureLatencyProfile(model, adapter, { batch, runs: 20, threads: 1 });
  const planMs: Record<string, number> = {};
  for (const maxLoss of criteria[name] ?? ["0.5%"]) {
    const result = await tune(adapter, {
      criterion: parseCriterion(maxLoss),
      latency: additiveLatencyModel({ ...base, planMs }),
      skipSensitivity: true,
      measure: async (int8) =>
        measurePlanLatency(encodeModel(int8.length === 0 ? model : await adapter.quantizeFor(int8)), batch, {
          runs: 20,
          threads: 1,
        }),
    });
    Object.assign(planMs, result.measurements);
    console.log(`${name} ${maxLoss}: ${result.message}`);
  }
  const profile = { ...base, planMs };
  writeFileSync(
    new URL(`../test-fixtures/profiles/${name}.json`, import.meta.url),
    `${JSON.stringify(profile, null, 2)}\n`,
  );
}
