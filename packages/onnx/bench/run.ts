/**
 * `pnpm bench` for @zeropoint/onnx: end-to-end quantize time per shared model, and fp32 vs int8
 * latency in onnxruntime-node (one thread, batch 1 and 64), as ratios measured in the same run.
 */

import { mnistSplit } from "@zeropoint/test-helpers";
import * as ort from "onnxruntime-node";
import { Bench } from "tinybench";
import { encodeModel, quantizeDynamic, quantizeStatic } from "../src/index.js";
import { mnistCalibration, sharedModelBytes } from "../test-fixtures/mnist-eval.js";

function mean(bench: Bench, name: string): number {
  const r = bench.getTask(name)?.result as { latency?: { mean: number } } | undefined;
  if (r?.latency === undefined) throw new Error(`no result for ${name}`);
  return r.latency.mean;
}

const test = mnistSplit("test");
const rows: string[][] = [];
for (const name of ["cnn", "mlp", "transformer"]) {
  const floatBytes = sharedModelBytes(name);
  const calibration = mnistCalibration();
  const variants: [string, () => Promise<Uint8Array>][] = [
    [
      "static QDQ per-channel",
      async () =>
        encodeModel((await quantizeStatic(floatBytes, { calibrationData: () => calibration, perChannel: true })).model),
    ],
    [
      "static QOperator",
      async () =>
        encodeModel(
          (await quantizeStatic(floatBytes, { calibrationData: () => calibration, format: "qoperator" })).model,
        ),
    ],
    ["dynamic", async () => encodeModel((await quantizeDynamic(floatBytes, { perChannel: true })).model)],
  ];
  const quantizeBench = new Bench({ iterations: 5, warmupIterations: 1, time: 0 });
  const models = new Map<string, Uint8Array>();
  for (const [label, make] of variants) {
    models.set(label, await make());
    quantizeBench.add(`quantize ${label}`, async () => {
      await make();
    });
  }
  await quantizeBench.run();
  for (const [label] of variants) {
    const what = label === "dynamic" ? `quantize ${label}` : `quantize ${label} (256 calibration images)`;
    rows.push([name, what, `${mean(quantizeBench, `quantize ${label}`).toFixed(0)} ms`, ""]);
  }

  for (const batch of [1, 64]) {
    const input = { input: new ort.Tensor("float32", test.images.subarray(0, batch * 784), [batch, 1, 28, 28]) };
    const sessions = new Map<string, ort.InferenceSession>();
    sessions.set("fp32", await ort.InferenceSession.create(floatBytes, { intraOpNumThreads: 1, interOpNumThreads: 1 }));
    for (const [label, bytes] of models)
      sessions.set(label, await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 }));
    const bench = new Bench({ iterations: batch === 1 ? 200 : 30, warmupIterations: 5, time: 0 });
    for (const [label, session] of sessions) {
      bench.add(`${label} b${batch}`, async () => {
        await session.run(input);
      });
    }
    await bench.run();
    const base = mean(bench, `fp32 b${batch}`);
    for (const [label] of sessions) {
      const ms = mean(bench, `${label} b${batch}`);
      rows.push([
        name,
        `latency ${label}, batch ${batch}, 1 thread`,
        `${ms.toFixed(3)} ms`,
        `${(base / ms).toFixed(2)}x fp32 speed`,
      ]);
    }
    for (const s of sessions.values()) await s.release();
  }
}
console.log(
  `\n@zeropoint/onnx benchmarks (node ${process.version}, onnxruntime-node ${ort.env.versions.common}; ratios vs fp32 measured in this run)\n`,
);
const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
for (const r of rows)
  console.log(r.map((v, c) => (c >= 2 ? v.padStart(widths[c] as number) : v.padEnd(widths[c] as number))).join("  "));
