import { mkdirSync } from "node:fs";
import { join } from "node:path";
import {
  type CalibrationSource,
  checkBuild,
  type LayerParams,
  type ModelBuild,
  type QuantizeVariant,
  type TensorRecord,
} from "@zeropoint/core";
import { batchToFeeds } from "../calibration/calibration-source.js";
import { encodeModel, saveModel } from "../model/model-io.js";
import type { OnnxModel } from "../model/onnx-schema.js";
import { loadOnnxruntime } from "../runtime/onnxruntime.js";
import { sessionModel } from "../runtime/session-model.js";

/** What executes ONNX builds. */
export const ONNX_RUNTIME_NAME = "onnxruntime-node 1.30 (cpu)";

/** Parts of an ONNX build besides its runtime. */
export interface OnnxBuildParts {
  readonly variant: QuantizeVariant | "float";
  readonly layerParams?: Readonly<Record<string, LayerParams>>;
  /** The file to open instead of the model's bytes (a model with external data, as loaded). */
  readonly path?: string;
}

/**
 * An ONNX model as a {@link ModelBuild}: one onnxruntime session (one intra-op thread, so timings
 * compare across frameworks that run single-threaded), the first graph output returned as float32.
 */
export async function onnxBuild(model: OnnxModel, parts: OnnxBuildParts): Promise<ModelBuild> {
  const ort = await loadOnnxruntime();
  const opened = parts.path === undefined ? sessionModel(model) : { source: parts.path, dispose: () => {} };
  let session: Awaited<ReturnType<typeof ort.InferenceSession.create>>;
  try {
    session = await ort.InferenceSession.create(opened.source as string, {
      executionProviders: ["cpu"],
      intraOpNumThreads: 1,
    });
  } finally {
    opened.dispose();
  }
  const output = session.outputNames[0] as string;
  const bytes = parts.path === undefined && typeof opened.source !== "string" ? opened.source.byteLength : undefined;
  const build: ModelBuild = {
    framework: "onnx",
    variant: parts.variant,
    runtime: ONNX_RUNTIME_NAME,
    async predict(inputs: TensorRecord): Promise<Float32Array> {
      const data = (await session.run(batchToFeeds(ort, inputs)))[output]?.data;
      return data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>);
    },
    sizeBytes: () => bytes ?? encodeModel(model).byteLength,
    layerParams: () => parts.layerParams ?? {},
    check: (reference: ModelBuild, data: CalibrationSource) => checkBuild(build, reference, data),
    async save(directory: string): Promise<string[]> {
      mkdirSync(directory, { recursive: true });
      const path = join(directory, "model.onnx");
      const { dataBytes } = saveModel(model, path);
      return dataBytes > 0 ? [path, `${path}.data`] : [path];
    },
  };
  return build;
}
