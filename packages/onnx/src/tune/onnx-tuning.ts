import { createHash } from "node:crypto";
import {
  defaultRecipe,
  type LatencyProfile,
  type Observer,
  type Recipe,
  type TunableNode,
  type TuningAdapter,
  ZeropointError,
} from "@zeropoint/core";
import type { CalibrationBatch, CalibrationSource } from "../calibration/calibration-source.js";
import { batchToFeeds } from "../calibration/calibration-source.js";
import { checkQuantizedModel } from "../check/model-check.js";
import { preprocessGraph } from "../graph/preprocess.js";
import { encodeModel, structuredCloneModel } from "../model/model-io.js";
import type { OnnxModel } from "../model/onnx-schema.js";
import { ensureOpset } from "../quantize/opset.js";
import { quantizeStatic, type StaticQuantizeOptions } from "../quantize/quantize-static.js";
import { decideRoles } from "../quantize/static-plan.js";
import { loadOnnxruntime } from "../runtime/onnxruntime.js";
import { readCpuFeatures } from "../target/cpu-target.js";

/** Evaluation data: batches and, when known, one label per row (accuracy); else top-1 agreement with float. */
export interface EvaluationData {
  readonly batches: readonly CalibrationBatch[];
  readonly labels?: Uint8Array;
}

/** Options of {@link createOnnxTuningAdapter}. */
export interface OnnxTuningOptions {
  readonly calibrationData: CalibrationSource;
  readonly evaluation: EvaluationData;
  /**
   * Op types whose nodes the tuner switches between int8 and float. Default: every op static
   * quantization would quantize on its own (Conv, MatMul, Gemm, Add, Mul, Softmax, ...), so that a
   * float node in a plan really runs in float.
   */
  readonly opTypes?: readonly string[];
  /** Quantization settings every trial uses (default: QDQ, per-channel int8 weights, uint8 activations, minmax). */
  readonly quantize?: Omit<StaticQuantizeOptions, "calibrationData" | "plan" | "observerCache" | "onProgress">;
  /** The base recipe; trials add node overrides to it. */
  readonly recipe?: Recipe;
}

/** The ONNX implementation of core's tuning contract, plus the plan it would write. */
export interface OnnxTuningAdapter extends TuningAdapter {
  /** The plan (core recipe) with exactly these nodes in int8. */
  planFor(int8Nodes: readonly string[]): Recipe;
  /** Quantizes with that plan. */
  quantizeFor(int8Nodes: readonly string[]): Promise<OnnxModel>;
  /** Scores any model (same inputs and outputs) on the evaluation data, as trials are scored. */
  score(bytes: Uint8Array): Promise<number>;
}

async function predictions(bytes: Uint8Array, batches: readonly CalibrationBatch[]): Promise<Float32Array[]> {
  const ort = await loadOnnxruntime();
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ["cpu"], intraOpNumThreads: 1 });
  try {
    const out: Float32Array[] = [];
    for (const batch of batches) {
      const feeds = batchToFeeds(ort, batch);
      const result = await session.run(feeds);
      out.push((result[session.outputNames[0] as string] as { data: Float32Array }).data);
    }
    return out;
  } finally {
    await session.release();
  }
}

function top1(logits: readonly Float32Array[], rowsPerBatch: readonly number[]): number[] {
  const out: number[] = [];
  logits.forEach((l, b) => {
    const rows = rowsPerBatch[b] as number;
    const width = l.length / rows;
    for (let r = 0; r < rows; r++) {
      let best = 0;
      for (let k = 1; k < width; k++) if ((l[r * width + k] as number) > (l[r * width + best] as number)) best = k;
      out.push(best);
    }
  });
  return out;
}

/**
 * Adapts an ONNX model to core's tuner: the tunable nodes are the nodes static quantization would
 * quantize on their own (shape ops and folded activations follow them); a trial quantizes (QDQ by default) with the others kept float through
 * a plan, and scores on the evaluation data (accuracy with labels, top-1 agreement with the float
 * model without). Calibration runs once; every trial reuses the calibrated ranges.
 */
export async function createOnnxTuningAdapter(
  input: OnnxModel,
  options: OnnxTuningOptions,
): Promise<OnnxTuningAdapter> {
  const model = structuredCloneModel(input);
  const tunableOps = options.opTypes === undefined ? undefined : new Set(options.opTypes);
  const recipe: Recipe = options.recipe ?? {
    ...defaultRecipe("static"),
    weight: {
      dtype: "int8",
      symmetric: true,
      granularity: options.quantize?.perChannel === false ? "per-tensor" : "per-channel",
    },
  };
  const probe = ensureOpset(structuredCloneModel(model), 13);
  preprocessGraph(probe.graph as NonNullable<OnnxModel["graph"]>);
  const roles = await decideRoles(probe, { recipe });
  const nodes: TunableNode[] = roles.nodes
    .filter((p) => p.role === "compute" && (tunableOps === undefined || tunableOps.has(p.node.opType ?? "")))
    .map((p) => ({ name: p.node.name ?? "", opType: p.node.opType ?? "" }));
  if (nodes.length === 0) throw new ZeropointError("invalid-model", "no node is quantizable: nothing to tune");
  const rows = options.evaluation.batches.map((b) => (Object.values(b)[0]?.dims[0] as number) ?? 1);
  const floatBytes = encodeModel(model);
  const floatTop = top1(await predictions(floatBytes, options.evaluation.batches), rows);
  const labels = options.evaluation.labels;
  if (labels !== undefined && labels.length !== floatTop.length) {
    throw new ZeropointError(
      "invalid-calibration-data",
      `evaluation has ${floatTop.length} samples but ${labels.length} labels`,
    );
  }
  const score = (top: number[]) => {
    let ok = 0;
    for (let i = 0; i < top.length; i++) if (top[i] === (labels ? labels[i] : floatTop[i])) ok++;
    return ok / top.length;
  };
  const cache = new Map<string, Observer>();
  const planFor = (int8Nodes: readonly string[]): Recipe => {
    const int8 = new Set(int8Nodes);
    const floatNodes = nodes.filter((n) => !int8.has(n.name)).map((n) => n.name);
    return {
      ...recipe,
      overrides: {
        ...recipe.overrides,
        nodes: { ...recipe.overrides?.nodes, ...Object.fromEntries(floatNodes.map((n) => [n, { keepFloat: true }])) },
      },
    };
  };
  const quantizeFor = async (int8Nodes: readonly string[]) =>
    (
      await quantizeStatic(model, {
        ...options.quantize,
        calibrationData: options.calibrationData,
        plan: planFor(int8Nodes),
        observerCache: cache,
      })
    ).model;
  return {
    specificationVersion: "v1",
    nodes: async () => nodes,
    floatMetric: async () => score(floatTop),
    floatSizeBytes: async () => floatBytes.length,
    planFor,
    quantizeFor,
    score: async (bytes) => score(top1(await predictions(bytes, options.evaluation.batches), rows)),
    evaluate: async (int8Nodes) => {
      const bytes = encodeModel(await quantizeFor(int8Nodes));
      return {
        metric: score(top1(await predictions(bytes, options.evaluation.batches), rows)),
        sizeBytes: bytes.length,
      };
    },
    nodeSqnr: async (int8Nodes) => {
      const { model: q, report } = await quantizeStatic(model, {
        ...options.quantize,
        calibrationData: options.calibrationData,
        plan: planFor(int8Nodes),
        observerCache: cache,
      });
      const check = await checkQuantizedModel(
        model,
        q,
        options.evaluation.batches.slice(0, 2),
        report.activations ?? {},
      );
      const byTensor = new Map(check.tensors.map((t) => [t.name, t.sqnr]));
      for (const o of check.outputs) byTensor.set(o.name, o.sqnr);
      const out: Record<string, number> = {};
      for (const p of roles.nodes) {
        if (!nodes.some((n) => n.name === p.node.name)) continue;
        const output = p.node.output[0] as string;
        const value = byTensor.get(roles.removedActivations.get(output) ?? output);
        if (value !== undefined) out[p.node.name as string] = value;
      }
      return out;
    },
  };
}

/** Measures one model's latency on a batch: median of `runs` (>= 20) timed runs after warm-up. */
export async function measurePlanLatency(
  bytes: Uint8Array,
  batch: CalibrationBatch,
  options: { runs?: number; threads?: number } = {},
): Promise<number> {
  const ort = await loadOnnxruntime();
  const feeds = batchToFeeds(ort, batch);
  return medianLatency(bytes, feeds, Math.max(20, options.runs ?? 20), options.threads ?? 1);
}

/** Median of timed runs in milliseconds. */
async function medianLatency(
  bytes: Uint8Array,
  feeds: Record<string, unknown>,
  runs: number,
  threads: number,
): Promise<number> {
  const ort = await loadOnnxruntime();
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: ["cpu"],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
  });
  try {
    for (let i = 0; i < 3; i++) await session.run(feeds as never);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      await session.run(feeds as never);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)] as number;
  } finally {
    await session.release();
  }
}

/** Options of {@link measureLatencyProfile}. */
export interface LatencyProfileOptions {
  /** One input batch to time (e.g. 64 images). */
  readonly batch: CalibrationBatch;
  /** Timed runs per plan (median); at least 20. */
  readonly runs?: number;
  readonly threads?: number;
}

/**
 * Measures a latency profile in onnxruntime-node: the float model, the all-int8 model, and for each
 * tunable node the model with only that node in int8 (median of >= 20 runs each).
 */
export async function measureLatencyProfile(
  model: OnnxModel,
  adapter: OnnxTuningAdapter,
  options: LatencyProfileOptions,
): Promise<LatencyProfile> {
  const ort = await loadOnnxruntime();
  const runs = Math.max(20, options.runs ?? 20);
  const threads = options.threads ?? 1;
  const feeds = batchToFeeds(ort, options.batch);
  const bytes = encodeModel(model);
  const floatMs = await medianLatency(bytes, feeds, runs, threads);
  const nodes = await adapter.nodes();
  const nodeDeltaMs: Record<string, number> = {};
  for (const n of nodes)
    nodeDeltaMs[n.name] =
      (await medianLatency(encodeModel(await adapter.quantizeFor([n.name])), feeds, runs, threads)) - floatMs;
  const allInt8Ms = await medianLatency(
    encodeModel(await adapter.quantizeFor(nodes.map((n) => n.name))),
    feeds,
    runs,
    threads,
  );
  const batch = Object.values(options.batch)[0]?.dims[0] ?? 1;
  return {
    format: "zeropoint-latency-profile",
    version: 1,
    cpu: readCpuFeatures().model,
    onnxruntime: ort.env.versions.common,
    runtime: `onnxruntime-node ${ort.env.versions.common}, cpu, ${threads} thread(s), batch ${batch}, median of ${runs} runs`,
    model: createHash("sha256").update(bytes).digest("hex"),
    floatMs,
    nodeDeltaMs,
    allInt8Ms,
  };
}

/** SHA-256 of a model's encoding (identifies the model a profile belongs to). */
export function modelDigest(model: OnnxModel): string {
  return createHash("sha256").update(encodeModel(model)).digest("hex");
}
