import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import {
  type CalibrationSource,
  checkBuild,
  type LayerParams,
  type ModelBuild,
  type QuantizeVariant,
  singleFloat32Input,
  type TensorRecord,
} from "@zeropoint/core";
import { writeModelArtifacts } from "../io/file-system-io.js";

/** The one float32 input of a batch (the tfjs adapter runs single-input models). */
export function singleInput(inputs: TensorRecord): { data: Float32Array; dims: number[] } {
  const t = singleFloat32Input(inputs, "tfjs");
  return { data: t.data, dims: [...t.dims] };
}

/** A LayersModel's artifacts, as `model.save` would write them. */
export async function artifactsOf(model: tfl.LayersModel): Promise<tf.io.ModelArtifacts> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
    }),
  );
  return artifacts as tf.io.ModelArtifacts;
}

/** Parts of a tfjs build. */
export interface TfjsBuildParts {
  readonly variant: QuantizeVariant | "float";
  readonly runtime: string;
  readonly predict: (x: Float32Array, dims: number[]) => Float32Array;
  readonly sizeBytes: number;
  readonly sizeNote?: string;
  readonly layerParams?: Record<string, LayerParams>;
  /** The artifacts {@link ModelBuild.save} writes (absent: the build has no file format). */
  readonly artifacts?: () => Promise<tf.io.ModelArtifacts>;
}

/** A tfjs model (or the integer executor) as a {@link ModelBuild}. */
export function tfjsBuild(parts: TfjsBuildParts): ModelBuild {
  const artifacts = parts.artifacts;
  const build: ModelBuild = {
    framework: "tfjs",
    variant: parts.variant,
    runtime: parts.runtime,
    predict: async (inputs) => {
      const { data, dims } = singleInput(inputs);
      return parts.predict(data, dims);
    },
    sizeBytes: () => parts.sizeBytes,
    ...(parts.sizeNote !== undefined ? { sizeNote: parts.sizeNote } : {}),
    layerParams: () => parts.layerParams ?? {},
    check: (reference: ModelBuild, data: CalibrationSource) => checkBuild(build, reference, data),
    ...(artifacts !== undefined
      ? { save: async (directory: string) => modelFiles(writeModelArtifacts(directory, await artifacts())) }
      : {}),
  };
  return build;
}

/** model.json and the weight shards its manifest names (beside it): the files a tfjs model is. */
export function modelFiles(path: string): string[] {
  const json = JSON.parse(readFileSync(path, "utf8")) as { weightsManifest?: { paths?: string[] }[] };
  const dir = dirname(resolve(path));
  return [resolve(path), ...(json.weightsManifest ?? []).flatMap((g) => (g.paths ?? []).map((p) => resolve(dir, p)))];
}

/** `predict` of a LayersModel on NCHW (or flat) float data, in one tidy. */
export function layersPredict(model: tfl.LayersModel): (x: Float32Array, dims: number[]) => Float32Array {
  return (x, dims) => tf.tidy(() => Float32Array.from((model.predict(tf.tensor(x, dims)) as tf.Tensor).dataSync()));
}
