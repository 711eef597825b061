// Run by cpu-target.test.ts under an emulated CPU: prints what the product detects there and what
// onnxruntime computes for the given models' named outputs, as JSON on stdout.
import { readFileSync } from "node:fs";
import * as ort from "onnxruntime-node";
import { resolveCpuTarget } from "../../src/target/cpu-target.js";

const target = await resolveCpuTarget("auto");
const runs: Record<string, Record<string, number[]>> = {};
// argv: pairs of <model.onnx> <feeds.json>; feeds.json maps input name -> {dims, data (float32)}.
const args = process.argv.slice(2);
for (let i = 0; i + 1 < args.length; i += 2) {
  const session = await ort.InferenceSession.create(readFileSync(args[i] as string), {
    intraOpNumThreads: 1,
    executionProviders: ["cpu"],
  });
  const feedsSpec = JSON.parse(readFileSync(args[i + 1] as string, "utf8")) as Record<
    string,
    { dims: number[]; data: number[] }
  >;
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, spec] of Object.entries(feedsSpec)) {
    feeds[name] = new ort.Tensor("float32", Float32Array.from(spec.data), spec.dims);
  }
  const out = await session.run(feeds);
  runs[args[i] as string] = Object.fromEntries(
    Object.entries(out).map(([k, v]) => [k, Array.from(v.data as ArrayLike<number>, Number)]),
  );
  await session.release();
}
process.stdout.write(`${JSON.stringify({ target, runs })}\n`);
