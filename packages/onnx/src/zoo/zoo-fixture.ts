import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  batchSamples,
  elementCount,
  type ModelInputSpec,
  type NamedTensor,
  parseNpyTensor,
  type TensorRecord,
} from "@zeropoint/core";
import { REPO_ROOT } from "@zeropoint/test-helpers";
import type { CalibrationBatch, CalibrationSource } from "../calibration/calibration-source.js";
import { modelInputSpecs } from "../model/input-specs.js";
import { encodeModel, loadModel } from "../model/model-io.js";
import type { OnnxModel } from "../model/onnx-schema.js";
import { loadOnnxruntime } from "../runtime/onnxruntime.js";

/** What tooling/zoo/generate.py wrote beside each model (see tooling/zoo/README.md). */
export interface ZooMeta {
  readonly description: string;
  readonly task: "classification" | "segmentation" | "language-model";
  readonly metric: "accuracy" | "iou" | "perplexity";
  readonly float: Readonly<Record<string, number>>;
  readonly variants: readonly string[];
  readonly inputs: readonly { name: string; dtype: string }[];
}

/** Zoo model names, in the order the generator makes them. */
export const ZOO_MODELS = ["resnet18", "mobilenetv2", "segmenter", "lstm", "gru", "bert", "gpt"] as const;
export type ZooName = (typeof ZOO_MODELS)[number];

export function zooDir(name: ZooName): string {
  const dir = join(REPO_ROOT, "tooling/zoo/models", name);
  if (!existsSync(join(dir, "meta.json"))) throw new Error(`zoo model missing: ${dir} (run tooling/zoo/generate.py)`);
  return dir;
}

export function zooMeta(name: ZooName): ZooMeta {
  return JSON.parse(readFileSync(join(zooDir(name), "meta.json"), "utf8")) as ZooMeta;
}

export function zooModel(name: ZooName, variant = "model.onnx"): OnnxModel {
  return loadModel(join(zooDir(name), variant)).model;
}

function npy(name: ZooName, file: string): NamedTensor {
  const path = join(zooDir(name), file);
  return parseNpyTensor(readFileSync(path), path);
}

/** Sample i of a stacked tensor (samples on axis 0). */
function row(t: NamedTensor, i: number): NamedTensor {
  const dims = t.dims.slice(1);
  const per = elementCount(dims);
  return { dtype: t.dtype, data: (t.data as Float32Array).subarray(i * per, (i + 1) * per), dims } as NamedTensor;
}

/** The samples of `folder` (calib or eval) for the model's inputs. */
export function zooSamples(name: ZooName, folder: "calib" | "eval", specs: readonly ModelInputSpec[]): TensorRecord[] {
  const stacked = specs.map((s) => [s.name, npy(name, `${folder}/${s.name}.npy`)] as const);
  const count = stacked[0]?.[1].dims[0] ?? 0;
  return Array.from({ length: count }, (_, i) => Object.fromEntries(stacked.map(([k, t]) => [k, row(t, i)])));
}

/** Calibration source over the model's calib/ samples, batched as the model declares. */
export function zooCalibration(name: ZooName, model: OnnxModel, batchSize = 16): CalibrationSource {
  const specs = modelInputSpecs(model);
  const samples = zooSamples(name, "calib", specs);
  return () => batchSamples(specs, samples, { batchSize }) as AsyncIterable<CalibrationBatch>;
}

/** Labels / targets / masks of the eval split as numbers. */
export function zooTargets(name: ZooName, file: "labels" | "targets" | "masks"): Float64Array {
  const t = npy(name, `eval/${file}.npy`);
  return Float64Array.from(t.data as ArrayLike<number | bigint>, Number);
}

/** Runs a model over the eval split; returns its first output (or `output`), concatenated over samples. */
export async function zooOutputs(
  name: ZooName,
  model: Uint8Array | OnnxModel,
  specsFrom: OnnxModel,
  output?: string,
): Promise<{
  data: Float32Array;
  dims: number[];
}> {
  const ort = await loadOnnxruntime();
  const bytes = model instanceof Uint8Array ? model : encodeModel(model);
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ["cpu"], intraOpNumThreads: 2 });
  const specs = modelInputSpecs(specsFrom);
  const parts: Float32Array[] = [];
  let dims: number[] = [];
  try {
    for await (const batch of batchSamples(specs, zooSamples(name, "eval", specs), { batchSize: 100 })) {
      const feeds = Object.fromEntries(
        Object.entries(batch).map(([k, t]) => [k, new ort.Tensor(t.dtype, t.data as never, [...t.dims])]),
      );
      const out = await session.run(feeds as never);
      const first = out[output ?? (session.outputNames[0] as string)] as unknown as {
        data: Float32Array;
        dims: number[];
      };
      parts.push(Float32Array.from(first.data));
      dims = [...first.dims];
    }
  } finally {
    await session.release();
  }
  const total = parts.reduce((a, p) => a + p.length, 0);
  const data = new Float32Array(total);
  let o = 0;
  for (const p of parts) {
    data.set(p, o);
    o += p.length;
  }
  return { data, dims: [total / elementCount(dims.slice(1)), ...dims.slice(1)] };
}

/** The zoo model's metric on its eval split for a given model (float or quantized). */
export async function zooMetric(name: ZooName, model: Uint8Array | OnnxModel, specsFrom: OnnxModel): Promise<number> {
  const meta = zooMeta(name);
  const out = await zooOutputs(name, model, specsFrom);
  if (meta.metric === "accuracy") {
    const labels = zooTargets(name, "labels");
    const classes = out.dims[out.dims.length - 1] as number;
    let right = 0;
    for (let r = 0; r < labels.length; r++) {
      let best = 0;
      for (let k = 1; k < classes; k++)
        if ((out.data[r * classes + k] as number) > (out.data[r * classes + best] as number)) best = k;
      if (best === labels[r]) right++;
    }
    return right / labels.length;
  }
  if (meta.metric === "iou") {
    const masks = zooTargets(name, "masks");
    let inter = 0;
    let union = 0;
    for (let i = 0; i < masks.length; i++) {
      const p = (out.data[i] as number) > 0.5;
      const m = (masks[i] as number) > 0.5;
      if (p && m) inter++;
      if (p || m) union++;
    }
    return inter / union;
  }
  // Perplexity: exp of the mean next-character cross-entropy over every position.
  const targets = zooTargets(name, "targets");
  const vocab = out.dims[out.dims.length - 1] as number;
  let nll = 0;
  for (let p = 0; p < targets.length; p++) {
    let max = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < vocab; k++) max = Math.max(max, out.data[p * vocab + k] as number);
    let sum = 0;
    for (let k = 0; k < vocab; k++) sum += Math.exp((out.data[p * vocab + k] as number) - max);
    nll += Math.log(sum) + max - (out.data[p * vocab + (targets[p] as number)] as number);
  }
  return Math.exp(nll / targets.length);
}
