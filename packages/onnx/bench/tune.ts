/**
 * Formats and tuning benchmark (`pnpm bench`): for each shared model, the per-node static plan
 * (latency profile measured here) and the approach × format search at --max-loss 0.5% on the even
 * MNIST test half, every candidate timed against float in the same interleaved rounds (batch 64,
 * one thread, until the 95% interval is ±3% or 60 s). Prints the detected integer kernel, each
 * format's speed as a ratio of float's, the tuned choice and its accuracy on the whole test split.
 */
import { additiveLatencyModel, parseCriterion, tune } from "@zeropoint/core";
import { mnistSplit } from "@zeropoint/test-helpers";
import {
  createOnnxTuningAdapter,
  describeCpuTarget,
  encodeModel,
  loadModel,
  measureLatencyProfile,
  resolveCpuTarget,
  searchFormats,
} from "../src/index.js";
import { accuracy, mnistCalibration, mnistTestHalf, sharedModelBytes } from "../test-fixtures/mnist-eval.js";

const test = mnistSplit("test");
const batch = { input: { data: test.images.subarray(0, 64 * 784), dims: [64, 1, 28, 28] } };
const target = await resolveCpuTarget("auto");
const lines: string[] = [];
for (const name of ["cnn", "mlp", "transformer"]) {
  const { model } = loadModel(sharedModelBytes(name));
  const adapter = await createOnnxTuningAdapter(model, {
    calibrationData: () => mnistCalibration(),
    evaluation: mnistTestHalf("even"),
  });
  const profile = await measureLatencyProfile(model, adapter, { batch, runs: 20, threads: 1 });
  const criterion = parseCriterion("0.5%");
  const perNode = await tune(adapter, { criterion, latency: additiveLatencyModel(profile), skipSensitivity: true });
  const search = await searchFormats(model, {
    calibrationData: () => mnistCalibration(),
    score: (bytes) => adapter.score(bytes),
    floatMetric: perNode.float.metric,
    criterion,
    latencyBatch: batch,
    ...(perNode.status === "met" && perNode.best !== undefined
      ? { perNodePlan: adapter.planFor(perNode.best.int8Nodes) }
      : {}),
    measure: { threads: 1, budgetMs: 60_000, targetHalfWidth: 0.03 },
  });
  const floatAccuracy = await accuracy(encodeModel(model));
  const timed = search.candidates.find((c) => c.speed !== undefined)?.speed;
  lines.push(
    `\n${name}: float ${timed?.baselineMs.toFixed(3) ?? "?"} ms, accuracy ${floatAccuracy.toFixed(4)} (${timed?.runtime ?? ""})`,
  );
  for (const c of search.candidates) {
    const speed =
      c.speed === undefined
        ? c.passed
          ? "not timed"
          : "misses the criterion: not timed"
        : `${c.speed.speedup.toFixed(2)}x float [${c.speed.low.toFixed(2)}, ${c.speed.high.toFixed(2)}]${c.speed.converged ? "" : " (budget out)"}`;
    lines.push(`  ${c.description.padEnd(45)} metric ${c.metric.toFixed(4)}  ${speed}`);
  }
  if (search.chosen === undefined) lines.push("  tuned: nothing meets the criterion at float speed or better");
  else {
    const tunedAccuracy = await accuracy(encodeModel(search.chosen.model));
    lines.push(
      `  tuned: ${search.chosen.description}, ${search.chosen.speed?.speedup.toFixed(2)}x float, accuracy ${tunedAccuracy.toFixed(4)} on the whole test split (float ${floatAccuracy.toFixed(4)})`,
    );
  }
}
console.log("\n@zeropoint/onnx formats and tuning (ratios vs float measured in this run)");
for (const l of describeCpuTarget(target)) console.log(`  ${l}`);
for (const l of lines) console.log(l);
