import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mnistSplit, sharedPath } from "@zeropoint/test-helpers";
import * as ort from "onnxruntime-node";
import type { CalibrationBatch } from "../src/index.js";
import { encodeModel, loadModel } from "../src/index.js";

/** The first 256 train images in batches of 32, as the shared README's calibration set. */
export function mnistCalibration(samples = 256, batch = 32): CalibrationBatch[] {
  const train = mnistSplit("train");
  const out: CalibrationBatch[] = [];
  for (let start = 0; start < samples; start += batch) {
    const n = Math.min(batch, samples - start);
    out.push({ input: { data: train.images.subarray(start * 784, (start + n) * 784), dims: [n, 1, 28, 28] } });
  }
  return out;
}

/** Top-1 predictions of a model on the first `count` test images (one thread, whole batch). */
export async function predict(bytes: Uint8Array, count?: number): Promise<Uint8Array> {
  const test = mnistSplit("test");
  const n = count ?? test.count;
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, executionProviders: ["cpu"] });
  try {
    const out = await session.run({
      input: new ort.Tensor("float32", test.images.subarray(0, n * 784), [n, 1, 28, 28]),
    });
    const logits = (out.logits as ort.Tensor).data as Float32Array;
    const top = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let k = 1; k < 10; k++) if ((logits[i * 10 + k] as number) > (logits[i * 10 + best] as number)) best = k;
      top[i] = best;
    }
    return top;
  } finally {
    await session.release();
  }
}

/** Test-split accuracy. */
export async function accuracy(bytes: Uint8Array): Promise<number> {
  const test = mnistSplit("test");
  const top = await predict(bytes);
  let ok = 0;
  for (let i = 0; i < top.length; i++) if (top[i] === test.labels[i]) ok++;
  return ok / top.length;
}

/** The shared model's bytes as stored. */
export function sharedModelBytes(name: string): Uint8Array {
  return readFileSync(sharedPath(`models/${name}_fp32.onnx`));
}

/** onnxruntime's own quantizer results, read from the table in ../shared/README.md. */
export function ortReference(): Record<string, { qdq: number; qoperator: number; dynamic: number }> {
  const text = readFileSync(sharedPath("README.md"), "utf8");
  const out: Record<string, { qdq: number; qoperator: number; dynamic: number }> = {};
  for (const m of text.matchAll(/^\| (cnn|mlp|transformer) \| (0\.\d+) \| (0\.\d+) \| (0\.\d+) \|$/gm)) {
    out[m[1] as string] = { qdq: Number(m[2]), qoperator: Number(m[3]), dynamic: Number(m[4]) };
  }
  if (Object.keys(out).length !== 3)
    throw new Error("could not read onnxruntime's reference accuracies from ../shared/README.md");
  return out;
}

/** Op types of the graph onnxruntime optimizes (optimizedModelFilePath), with counts. */
export async function optimizedOpCounts(bytes: Uint8Array): Promise<Map<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), "zeropoint-opt-"));
  try {
    const file = join(dir, "optimized.onnx");
    const session = await ort.InferenceSession.create(bytes, {
      optimizedModelFilePath: file,
      graphOptimizationLevel: "all",
      executionProviders: ["cpu"],
    });
    await session.release();
    const counts = new Map<string, number>();
    for (const node of loadModel(file).model.graph?.node ?? [])
      counts.set(node.opType ?? "", (counts.get(node.opType ?? "") ?? 0) + 1);
    return counts;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export { encodeModel };

/** The even- or odd-indexed test images (tuning uses the even half, reports the odd half), in batches. */
export function mnistTestHalf(half: "even" | "odd", batch = 256): { batches: CalibrationBatch[]; labels: Uint8Array } {
  const test = mnistSplit("test");
  const keep = Array.from({ length: test.count }, (_, i) => i).filter((i) => i % 2 === (half === "even" ? 0 : 1));
  const images = new Float32Array(keep.length * 784);
  for (const [i, r] of keep.entries()) images.set(test.images.subarray(r * 784, (r + 1) * 784), i * 784);
  const batches: CalibrationBatch[] = [];
  for (let start = 0; start < keep.length; start += batch) {
    const n = Math.min(batch, keep.length - start);
    batches.push({ input: { data: images.subarray(start * 784, (start + n) * 784), dims: [n, 1, 28, 28] } });
  }
  return { batches, labels: Uint8Array.from(keep, (i) => test.labels[i] as number) };
}

/** A recorded latency profile (test-fixtures/profiles). */
export function recordedProfile(name: string): import("@zeropoint/core").LatencyProfile {
  return JSON.parse(readFileSync(new URL(`./profiles/${name}.json`, import.meta.url), "utf8"));
}
