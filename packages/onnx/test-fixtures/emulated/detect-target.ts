// Run by cpu-target.test.ts under an emulated CPU: prints what the product detects there and what
// onnxruntime computes for the given models' named outputs, as JSON on stdout.
import { readFileSync } from "node:fs";
import { mnistSplit } from "@zeropoint/test-helpers";
import * as ort from "onnxruntime-node";
import { resolveCpuTarget } from "../../src/target/cpu-target.js";

const target = await resolveCpuTarget("auto");
const runs: Record<string, Record<string, number[]>> = {};
// argv: pairs of <model.onnx> <feeds.json>; feeds.json maps input name -> {dims, data (float32)},
// or the word `mnist-top1` instead of a feeds file: top-1 of the model's `logits` on the whole MNIST
// test split (batches of 500), returned as `top1`.
const args = process.argv.slice(2);
async function mnistTop1(file: string): Promise<number[]> {
  const test = mnistSplit("test");
  const session = await ort.InferenceSession.create(readFileSync(file), {
    intraOpNumThreads: 1,
    executionProviders: ["cpu"],
  });
  const top: number[] = [];
  for (let start = 0; start < test.count; start += 500) {
    const n = Math.min(500, test.count - start);
    const out = await session.run({
      input: new ort.Tensor("float32", test.images.subarray(start * 784, (start + n) * 784), [n, 1, 28, 28]),
    });
    const logits = out.logits?.data as Float32Array;
    for (let r = 0; r < n; r++) {
      let best = 0;
      for (let k = 1; k < 10; k++) if ((logits[r * 10 + k] as number) > (logits[r * 10 + best] as number)) best = k;
      top.push(best);
    }
  }
  await session.release();
  return top;
}
for (let i = 0; i + 1 < args.length; i += 2) {
  if (args[i + 1] === "mnist-top1") {
    runs[args[i] as string] = { top1: await mnistTop1(args[i] as string) };
    continue;
  }
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
