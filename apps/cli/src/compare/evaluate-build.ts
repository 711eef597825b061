import type { ModelBuild } from "@zeropoint/core";
import type { CompareOptions } from "./compare-report.js";

const BATCH = 256;

/** Every evaluation image through a build in batches of 256: logits and ms per image. */
export async function evaluate(build: ModelBuild, input: string, options: CompareOptions, sampleShape: number[]) {
  const { images, count } = options.evaluation;
  const per = sampleShape.reduce((a, b) => a * b, 1);
  const logits: Float32Array[] = [];
  const started = performance.now();
  for (let i = 0; i < count; i += BATCH) {
    const n = Math.min(BATCH, count - i);
    const data = images.subarray(i * per, (i + n) * per);
    logits.push(await build.predict({ [input]: { dtype: "float32", data, dims: [n, ...sampleShape] } }));
  }
  const ms = (performance.now() - started) / count;
  const all = new Float32Array(logits.reduce((a, l) => a + l.length, 0));
  let at = 0;
  for (const l of logits) {
    all.set(l, at);
    at += l.length;
  }
  return { logits: all, ms };
}
