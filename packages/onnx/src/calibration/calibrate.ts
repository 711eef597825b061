import {
  batchRows,
  type CalibrationMethod,
  castTensor,
  createObserver,
  elementCount,
  halfToFloat,
  type ModelInputSpec,
  type Observer,
  type ObserverOptions,
  ZeropointError,
} from "@zeropoint/core";
import { modelInputSpecs } from "../model/input-specs.js";
import { DataType, type OnnxModel, type OnnxValueInfo } from "../model/onnx-schema.js";
import { loadOnnxruntime } from "../runtime/onnxruntime.js";
import { sessionModel } from "../runtime/session-model.js";
import { asNamedTensor, type CalibrationBatch, type CalibrationSource, iterateSource } from "./calibration-source.js";
import { buildSegments, type GraphSegment, runSegments, SEGMENT_THRESHOLD } from "./graph-segments.js";

/** Progress of a calibration run. */
export interface CalibrationProgress {
  readonly pass: number;
  readonly passes: number;
  readonly batches: number;
  readonly samples: number;
  /** Samples per pass when known (after the first pass, or from `maxSamples`). */
  readonly totalSamples?: number;
}

/** Options for {@link calibrate}. */
export interface CalibrateOptions {
  readonly method: CalibrationMethod;
  /** Observer options (dtype, symmetric, bins, percentile, ...). */
  readonly observer?: ObserverOptions;
  /** Stop after this many samples (batch rows) per pass. */
  readonly maxSamples?: number;
  /** Symbolic input dims fixed by the user, e.g. `{ input: [1, 1, 28, 28] }`. */
  readonly inputShapes?: Readonly<Record<string, readonly number[]>>;
  readonly onProgress?: (progress: CalibrationProgress) => void;
  /**
   * Observers to continue from (e.g. restored with core's `observerFromJSON` in another process):
   * calibration then resumes their statistics instead of starting fresh. Tensors without an entry
   * get a new observer.
   */
  readonly resume?: ReadonlyMap<string, Observer>;
  /** Exposed tensors above which the graph runs in segments (default {@link SEGMENT_THRESHOLD}). */
  readonly segmentThreshold?: number;
  /** Nodes per segment when segmented (default 2048). */
  readonly segmentNodes?: number;
}

/** Result of a calibration run: one streaming observer per tensor. */
export interface CalibrationResult {
  readonly observers: Map<string, Observer>;
  readonly samples: number;
  readonly batches: number;
}

/**
 * Element types of every tensor a model computes, asked from onnxruntime: all node outputs are
 * exposed as (untyped) graph outputs and the session reports their types.
 */
export async function discoverTensorTypes(model: OnnxModel): Promise<Map<string, string>> {
  const ort = await loadOnnxruntime();
  const graph = model.graph;
  if (!graph) throw new ZeropointError("invalid-model", "model has no graph");
  const all = graph.node.flatMap((n) => n.output).filter((o) => o !== "");
  if (all.length > SEGMENT_THRESHOLD) {
    // Very large graphs: the segments' sessions report every tensor's type (see graph-segments).
    const segments = await buildSegments(ort, model, new Set(all));
    const types = new Map<string, string>();
    for (const s of segments) {
      for (const [k, v] of s.types) types.set(k, v);
      await s.session.release();
    }
    for (const v of graph.input) {
      const elem = v.type?.tensorType?.elemType;
      if (elem !== undefined) types.set(v.name ?? "", elem === DataType.FLOAT ? "float32" : `onnx-${elem}`);
    }
    return types;
  }
  const augmented = exposeTensors(model, all);
  const session = await createSession(ort, augmented);
  try {
    const types = new Map<string, string>();
    for (const m of session.outputMetadata) types.set(m.name, m.isTensor ? m.type : "non-tensor");
    for (const v of graph.input) {
      const elem = v.type?.tensorType?.elemType;
      if (elem !== undefined) types.set(v.name ?? "", elem === DataType.FLOAT ? "float32" : `onnx-${elem}`);
    }
    return types;
  } finally {
    await session.release();
  }
}

async function createSession(ort: Awaited<ReturnType<typeof loadOnnxruntime>>, model: OnnxModel) {
  // A lazily loaded model opens from its data files (sessionModel).
  const opened = sessionModel(model);
  try {
    return await ort.InferenceSession.create(opened.source as never, {
      graphOptimizationLevel: "disabled",
      executionProviders: ["cpu"],
    });
  } catch (cause) {
    throw new ZeropointError("invalid-model", `onnxruntime cannot load the model: ${(cause as Error).message}`, {
      cause,
    });
  } finally {
    opened.dispose();
  }
}

/** A copy of the model whose graph outputs also include `tensors` (untyped; onnxruntime infers them). */
export function exposeTensors(model: OnnxModel, tensors: readonly string[]): OnnxModel {
  const graph = model.graph;
  if (!graph) throw new ZeropointError("invalid-model", "model has no graph");
  const existing = new Set(graph.output.map((o) => o.name));
  const extra: OnnxValueInfo[] = [];
  for (const t of tensors) {
    if (existing.has(t)) continue;
    existing.add(t);
    extra.push({ name: t });
  }
  return { ...model, graph: { ...graph, output: [...graph.output, ...extra] } };
}

/**
 * Runs the float model in onnxruntime-node batch by batch and streams each requested tensor into a
 * fresh core observer. Nothing is kept per batch; two-pass observers read the source twice.
 * Input data is checked (names, dims against the model, NaN/Infinity) with errors naming the input
 * and the batch.
 */
export async function calibrate(
  model: OnnxModel,
  tensors: readonly string[],
  source: CalibrationSource,
  options: CalibrateOptions,
): Promise<CalibrationResult> {
  const ort = await loadOnnxruntime();
  const graph = model.graph;
  if (!graph) throw new ZeropointError("invalid-model", "model has no graph");
  const observers = new Map<string, Observer>();
  for (const t of tensors)
    observers.set(t, options.resume?.get(t) ?? createObserver(options.method, options.observer ?? {}));
  // Resumed two-pass observers may already be in their second pass.
  const startPass = observers.size === 0 ? 0 : Math.min(...[...observers.values()].map((o) => o.pass));
  const passes = observers.size === 0 ? 1 : Math.max(...[...observers.values()].map((o) => o.passes));
  const specs = modelInputSpecs(model);
  const inputNames = new Set(specs.map((s) => s.name));
  const graphInputTensors = tensors.filter((t) => inputNames.has(t));
  const fetched = tensors.filter((t) => !inputNames.has(t));
  // Very large graphs run in segments (see graph-segments); others in one session exposing all.
  const segmented = fetched.length > (options.segmentThreshold ?? SEGMENT_THRESHOLD);
  const segments: GraphSegment[] = segmented
    ? await buildSegments(ort, model, new Set(fetched), options.segmentNodes)
    : [];
  const session = segmented ? undefined : await createSession(ort, exposeTensors(model, fetched));
  const wanted = new Set(fetched);
  const run = async (feeds: Record<string, unknown>): Promise<Record<string, { type: string; data: unknown }>> => {
    if (fetched.length === 0) return {};
    if (session !== undefined) return (await session.run(feeds as never, fetched)) as never;
    return Object.fromEntries(await runSegments(segments, feeds, wanted));
  };
  let samples = 0;
  let batches = 0;
  let perPass: number | undefined;
  try {
    for (let pass = startPass; pass < passes; pass++) {
      // Resumed observers may already be in this pass; only advance the ones behind it.
      if (pass > 0) for (const o of observers.values()) if (o.passes > pass && o.pass < pass) o.nextPass();
      samples = 0;
      batches = 0;
      for await (const batch of iterateSource(source)) {
        if (options.maxSamples !== undefined && samples >= options.maxSamples) break;
        const rows = batchRows(batch, specs);
        if (rows === 0) continue;
        const feeds = makeFeeds(ort, specs, batch, batches, options.inputShapes);
        let results: Awaited<ReturnType<typeof run>>;
        try {
          results = await run(feeds);
        } catch (cause) {
          // onnxruntime's own failure (a shape it rejects deep inside, an op it cannot run on this
          // data) as a typed error naming the batch and its inputs' shapes.
          if (cause instanceof ZeropointError) throw cause;
          throw new ZeropointError(
            "invalid-calibration-data",
            `onnxruntime could not run the model on calibration batch ${batches} (${specs.map((s) => `${s.name} [${(batch[s.name]?.dims ?? []).join(", ")}]`).join(", ")}): ${(cause as Error).message.split("\n")[0]}`,
            { cause },
          );
        }
        for (const name of graphInputTensors) {
          const t = asNamedTensor(batch[name] as CalibrationBatch[string]);
          observeInPass(observers.get(name), pass, outputAsFloat32({ type: t.dtype, data: t.data }, name));
        }
        for (const name of fetched) {
          const value = results[name];
          if (value === undefined)
            throw new ZeropointError("invalid-model", `onnxruntime returned nothing for tensor ${name}`);
          observeInPass(observers.get(name), pass, outputAsFloat32(value, name));
        }
        samples += rows;
        batches++;
        options.onProgress?.({
          pass,
          passes,
          batches,
          samples,
          ...(perPass !== undefined ? { totalSamples: perPass } : {}),
        });
      }
      if (batches === 0 || samples === 0)
        throw new ZeropointError("invalid-calibration-data", "the calibration set is empty");
      perPass = samples;
    }
  } finally {
    await session?.release();
    for (const s of segments) await s.session.release();
  }
  return { observers, samples, batches };
}

function observeInPass(observer: Observer | undefined, pass: number, data: Float32Array): void {
  // A one-pass observer is complete after pass 0; later passes only feed two-pass observers.
  if (observer === undefined || pass >= observer.passes || observer.pass !== pass) return;
  observer.observe(data);
}

/**
 * The onnxruntime feeds of one batch, checked against the model: every input present, its dtype
 * the model's (integral data for an integer input is converted, anything else is an error naming
 * the input), its rank and fixed dims matching except on the batch axis, floats finite.
 */
export function makeFeeds(
  ort: Awaited<ReturnType<typeof loadOnnxruntime>>,
  specs: readonly ModelInputSpec[],
  batch: CalibrationBatch,
  index: number,
  inputShapes: CalibrateOptions["inputShapes"],
  what = "calibration batch",
) {
  const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
  for (const name of Object.keys(batch)) {
    if (!specs.some((v) => v.name === name)) {
      throw new ZeropointError(
        "invalid-calibration-data",
        `${what} ${index} has an input named ${name}; the model's inputs are ${specs.map((v) => v.name).join(", ")}`,
      );
    }
  }
  for (const spec of specs) {
    const name = spec.name;
    const raw = batch[name];
    if (raw === undefined)
      throw new ZeropointError("invalid-calibration-data", `${what} ${index} has no data for input ${name}`, {
        details: { input: name },
      });
    const value = castTensor(asNamedTensor(raw), spec.dtype, `${what} ${index}, input ${name}`);
    const dims = value.dims;
    const fixed = inputShapes?.[name];
    const size = elementCount(dims);
    if (size !== value.data.length) {
      throw new ZeropointError(
        "invalid-calibration-data",
        `${what} ${index}, input ${name}: ${value.data.length} values for dims [${dims.join(", ")}]`,
      );
    }
    if (!spec.shapeUnknown && spec.dims.length !== dims.length) {
      throw new ZeropointError(
        "invalid-calibration-data",
        `${what} ${index}, input ${name}: rank ${dims.length} ([${dims.join(", ")}]) but the model expects rank ${spec.dims.length} ([${spec.dims.join(", ")}])`,
        { details: { input: name } },
      );
    }
    spec.dims.forEach((d, axis) => {
      const want = typeof d === "number" ? d : fixed?.[axis];
      if (want !== undefined && axis !== spec.batchAxis && want !== dims[axis]) {
        throw new ZeropointError(
          "invalid-calibration-data",
          `${what} ${index}, input ${name}: dim ${axis} is ${dims[axis]} but the model expects ${want} (shape [${dims.join(", ")}])`,
          { details: { input: name } },
        );
      }
    });
    if (value.dtype === "float32" || value.dtype === "float64") {
      const data = value.data as Float32Array;
      for (let i = 0; i < data.length; i++) {
        const x = data[i] as number;
        if (!Number.isFinite(x)) {
          throw new ZeropointError(
            "invalid-calibration-data",
            `${what} ${index}, input ${name}: element ${i} is ${x}`,
            {
              details: { input: name, batch: index, index: i },
            },
          );
        }
      }
    }
    feeds[name] = new ort.Tensor(value.dtype, value.data as never, [...dims]);
  }
  return feeds;
}

/** Float data of an onnxruntime output as float32 (float16 read exactly, float64 narrowed). */
export function outputAsFloat32(value: { type: string; data: unknown }, name: string): Float32Array {
  if (value.type === "float32") return value.data as Float32Array;
  if (value.type === "float16") {
    const bits = value.data as Uint16Array;
    const out = new Float32Array(bits.length);
    for (let i = 0; i < bits.length; i++) out[i] = halfToFloat(bits[i] as number);
    return out;
  }
  if (value.type === "float64") return Float32Array.from(value.data as Float64Array);
  throw new ZeropointError("invalid-model", `tensor ${name} is not a float tensor (got ${value.type})`);
}
