import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { CalibrationSource } from "@zeropoint/core";
import {
  batchRows,
  batchSamples,
  castTensor,
  elementCount,
  type ModelInputSpec,
  type NamedTensor,
  randomSamples,
  sampleDims,
  type TensorRecord,
  ZeropointError,
} from "@zeropoint/core";
import { loadMnist, readSampleFile } from "./calibration-data.js";
import { decodeImage, imagePreprocessFor, imageToSample } from "./images.js";
import { parseNpyTensor } from "./npy.js";
import { parseNpz } from "./npz.js";

/** Options for {@link loadModelData}. */
export interface ModelDataOptions {
  /** At most this many samples. */
  readonly samples: number;
  readonly batchSize: number;
  /** `--input-shape`: full-rank dims for symbolic dims. */
  readonly inputShapes?: Readonly<Record<string, readonly number[]>>;
  /** `--input name=value`: inputs pinned to a constant, in the model's full dims. */
  readonly constants?: TensorRecord;
  /** `--vocab-size`: ids drawn below this where the model does not tell. */
  readonly vocabSize?: number;
  readonly images?: {
    readonly resize?: readonly [number, number];
    readonly layout?: "nchw" | "nhwc";
    readonly mean?: readonly number[];
    readonly std?: readonly number[];
  };
  /** Length of symbolic non-batch dims of synthetic data (default 16). */
  readonly defaultDim?: number;
}

/** A source of model batches, with what the report says about it. */
export interface ModelData {
  readonly source: CalibrationSource;
  readonly description: string;
  readonly synthetic: boolean;
  /** Samples available, when known. */
  readonly samples: number;
}

const IMAGE_EXTENSIONS = [".png", ".jpg", ".jpeg"];

/**
 * The data named by `--calib-data` / `--eval-data`, as batches laid out the way the model declares
 * its inputs (see core's `batchSamples`: each input's own batch axis, fixed-batch models fed sample
 * by sample). Sources:
 * - `random`: synthetic samples respecting each input's dtype (core's `randomSamples`);
 * - `mnist[:split]`: one float input of 784 values per sample;
 * - a directory of `sample-*.npz` files (NumPy `savez`), each one sample with an array per input;
 * - a directory of `sample-*` directories, each holding `<input>.npy` per model input;
 * - a directory holding `<input>.npy` per model input, the samples on a leading axis;
 * - a directory of images (one rank-4 float input; `--layout`, `--resize`, `--mean`, `--std`);
 * - a directory of `.npy` files for a single-input model, each one sample or a stack of samples.
 * Every file is read when its samples are needed, so memory stays one batch.
 */
export function loadModelData(spec: string, specs: readonly ModelInputSpec[], options: ModelDataOptions): ModelData {
  if (specs.length === 0) throw new ZeropointError("invalid-model", "the model has no inputs to feed");
  const constants = options.constants ?? {};
  const fed = specs.filter((s) => constants[s.name] === undefined);
  const wrap = (description: string, synthetic: boolean, samples: number, make: () => SampleStream): ModelData => ({
    description,
    synthetic,
    samples,
    source: () => batchSamples(specs, make(), { batchSize: options.batchSize, maxSamples: options.samples, constants }),
  });
  if (spec === "random") {
    return wrap(
      `${options.samples} synthetic samples (${fed.map((s) => `${s.name} ${describeRandom(s, options.vocabSize)}`).join(", ")})`,
      true,
      options.samples,
      () =>
        randomSamples(specs, {
          count: options.samples,
          defaultDim: options.defaultDim ?? 16,
          constants,
          ...(options.inputShapes ? { inputShapes: options.inputShapes } : {}),
          ...(options.vocabSize !== undefined ? { vocabSize: options.vocabSize } : {}),
        }),
    );
  }
  if (spec === "mnist" || spec.startsWith("mnist:")) return mnistData(spec, specs, fed, options, wrap);
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(spec);
  } catch {
    throw new ZeropointError("invalid-argument", `${spec}: not mnist[:split], random, or an existing directory`);
  }
  if (!stat.isDirectory())
    throw new ZeropointError("invalid-argument", `${spec}: expected a directory of samples (.npy files or images)`);
  const entries = readdirSync(spec).sort();
  const sampleFiles = entries.filter((e) => /^sample[-_].*\.npz$/.test(e));
  if (sampleFiles.length > 0) {
    return wrap(`${sampleFiles.length} .npz samples from ${spec}`, false, sampleFiles.length, () =>
      npzSamples(spec, sampleFiles, fed),
    );
  }
  const sampleDirs = entries.filter((e) => /^sample[-_]/.test(e) && statSync(join(spec, e)).isDirectory());
  if (sampleDirs.length > 0) {
    return wrap(`${sampleDirs.length} sample directories from ${spec}`, false, sampleDirs.length, () =>
      sampleDirectories(spec, sampleDirs, fed),
    );
  }
  const perInput = fed.every((s) => entries.includes(`${s.name}.npy`));
  if (perInput && (fed.length > 1 || entries.filter((e) => e.endsWith(".npy")).length === 1)) {
    const first = readTensor(join(spec, `${(fed[0] as ModelInputSpec).name}.npy`));
    const count = first.dims[0] ?? 0;
    return wrap(
      `${Math.min(count, options.samples)} samples of ${fed.map((s) => `${s.name}.npy`).join(", ")} from ${spec}`,
      false,
      count,
      () => stackedFiles(spec, fed, options.samples),
    );
  }
  if (fed.length !== 1) {
    throw new ZeropointError(
      "invalid-calibration-data",
      `${spec}: the model has inputs ${fed.map((s) => s.name).join(", ")}; give one file per input (${fed.map((s) => `${s.name}.npy`).join(", ")}, samples on axis 0) or sample-*/ directories holding them`,
    );
  }
  const input = fed[0] as ModelInputSpec;
  const images = entries.filter((f) => IMAGE_EXTENSIONS.some((e) => f.toLowerCase().endsWith(e)));
  if (images.length > 0) return imageSamples(spec, images, input, options, wrap);
  const files = entries.filter((f) => f.endsWith(".npy"));
  if (files.length === 0) throw new ZeropointError("invalid-calibration-data", `${spec}: no .npy, .png or .jpg files`);
  return wrap(`${files.length} .npy files from ${spec}`, false, Number.NaN, () =>
    looseFiles(spec, files, input, options.inputShapes?.[input.name]),
  );
}

type SampleStream = Iterable<TensorRecord> | AsyncIterable<TensorRecord>;
type Wrap = (description: string, synthetic: boolean, samples: number, make: () => SampleStream) => ModelData;

function describeRandom(s: ModelInputSpec, vocabSize: number | undefined): string {
  if (s.dtype.startsWith("float")) return `${s.dtype} uniform [0, 1)`;
  if (s.dtype === "bool" || /mask/i.test(s.name)) return "ones";
  return `ids below ${s.vocabSize ?? vocabSize}`;
}

function readTensor(file: string): NamedTensor {
  return parseNpyTensor(readSampleFile(file), file);
}

/** One sample of `spec` from a tensor with the sample's dims, cast to the model's dtype. */
function asSample(t: NamedTensor, spec: ModelInputSpec, what: string): NamedTensor {
  return castTensor(t, spec.dtype, `${what} (input ${spec.name})`);
}

function* npzSamples(root: string, files: readonly string[], specs: readonly ModelInputSpec[]) {
  for (const name of files) {
    const file = join(root, name);
    const arrays = parseNpz(readSampleFile(file), file);
    const sample: Record<string, NamedTensor> = {};
    for (const spec of specs) {
      const t = arrays.get(spec.name);
      if (t === undefined) {
        throw new ZeropointError(
          "invalid-calibration-data",
          `${file} has no array named ${spec.name} (it holds ${[...arrays.keys()].join(", ") || "nothing"})`,
          { details: { file, input: spec.name } },
        );
      }
      sample[spec.name] = asSample(t, spec, `${file}:${spec.name}`);
    }
    yield sample as TensorRecord;
  }
}

function* sampleDirectories(root: string, dirs: readonly string[], specs: readonly ModelInputSpec[]) {
  for (const dir of dirs) {
    const sample: Record<string, NamedTensor> = {};
    for (const spec of specs) {
      const file = join(root, dir, `${spec.name}.npy`);
      sample[spec.name] = asSample(readTensor(file), spec, file);
    }
    yield sample as TensorRecord;
  }
}

/** Slices sample `i` (along axis 0) out of a stacked tensor, without copying. */
function row(t: NamedTensor, i: number): NamedTensor {
  const dims = t.dims.slice(1);
  const per = elementCount(dims);
  return {
    dtype: t.dtype,
    data: (t.data as Float32Array).subarray(i * per, (i + 1) * per),
    dims,
  } as NamedTensor;
}

function* stackedFiles(root: string, specs: readonly ModelInputSpec[], limit: number) {
  const tensors = specs.map((spec) => {
    const file = join(root, `${spec.name}.npy`);
    return { spec, file, tensor: asSample(readTensor(file), spec, file) };
  });
  const count = tensors[0]?.tensor.dims[0] ?? 0;
  for (const t of tensors) {
    if (t.tensor.dims[0] !== count) {
      throw new ZeropointError(
        "invalid-calibration-data",
        `${t.file} holds ${t.tensor.dims[0]} samples but ${tensors[0]?.file} holds ${count}`,
      );
    }
  }
  for (let i = 0; i < Math.min(count, limit); i++) {
    const sample: Record<string, NamedTensor> = {};
    for (const t of tensors) sample[t.spec.name] = row(t.tensor, i);
    yield sample as TensorRecord;
  }
}

function* looseFiles(root: string, files: readonly string[], spec: ModelInputSpec, pinned?: readonly number[]) {
  const rank = spec.dims.length - (spec.batchAxis === undefined ? 0 : 1);
  for (const name of files) {
    const file = join(root, name);
    const t = asSample(readTensor(file), spec, file);
    // A file of the sample's rank is one sample; one axis more is a stack of samples.
    if (t.dims.length === rank) yield { [spec.name]: t } as TensorRecord;
    else if (t.dims.length === rank + 1) for (let i = 0; i < (t.dims[0] ?? 0); i++) yield { [spec.name]: row(t, i) };
    else {
      const want = (() => {
        try {
          return `[${sampleDims(spec, pinned).join(", ")}]`;
        } catch {
          return `rank ${rank}`;
        }
      })();
      throw new ZeropointError(
        "invalid-calibration-data",
        `${file}: shape (${t.dims.join(", ")}) does not fit input ${spec.name} (one sample is ${want}, or a stack of them)`,
      );
    }
  }
}

const MNIST_SPLITS = ["train", "test", "test-even", "test-odd"] as const;

function mnistData(
  spec: string,
  specs: readonly ModelInputSpec[],
  fed: readonly ModelInputSpec[],
  options: ModelDataOptions,
  wrap: Wrap,
): ModelData {
  const split = spec.split(":")[1] ?? "train";
  if (!(MNIST_SPLITS as readonly string[]).includes(split))
    throw new ZeropointError("invalid-argument", `unknown MNIST split ${split}; use one of ${MNIST_SPLITS.join(", ")}`);
  if (fed.length !== 1) throw new ZeropointError("invalid-argument", "mnist data fits single-input models only");
  const input = fed[0] as ModelInputSpec;
  const dims = sampleDims(input, options.inputShapes?.[input.name]);
  if (elementCount(dims) !== 784 || !input.dtype.startsWith("float32")) {
    throw new ZeropointError(
      "invalid-calibration-data",
      `MNIST images are 784 float32 values but input ${input.name} takes ${input.dtype} [${dims.join(", ")}] per sample`,
    );
  }
  const mnist = loadMnist(split as (typeof MNIST_SPLITS)[number]);
  const n = Math.min(options.samples, mnist.count);
  void specs;
  return wrap(`MNIST ${split} split, first ${n} images`, false, n, function* () {
    for (let i = 0; i < n; i++)
      yield { [input.name]: { dtype: "float32", data: mnist.images.subarray(i * 784, (i + 1) * 784), dims } };
  });
}

function imageSamples(
  dir: string,
  files: readonly string[],
  input: ModelInputSpec,
  options: ModelDataOptions,
  wrap: Wrap,
): ModelData {
  const image = options.images ?? {};
  const layout = image.layout ?? "nchw";
  const dims = sampleDims(
    input,
    options.inputShapes?.[input.name] ??
      (image.resize !== undefined ? resizedShape(input, image.resize, layout) : undefined),
  );
  const preprocess = imagePreprocessFor(input.name, dims, image);
  const { channels, height, width } = preprocess;
  const n = Math.min(options.samples, files.length);
  return wrap(
    `${n} images from ${dir} (${layout}, ${height}x${width}, ${channels === 1 ? "grayscale" : "RGB"})`,
    false,
    n,
    function* () {
      for (let i = 0; i < n; i++) {
        const file = join(dir, files[i] as string);
        const decoded = decodeImage(readSampleFile(file), file);
        if (image.resize === undefined && (decoded.width !== width || decoded.height !== height)) {
          throw new ZeropointError(
            "invalid-calibration-data",
            `${file} is ${decoded.width}x${decoded.height} but input ${input.name} takes ${width}x${height}; pass --resize ${height}x${width}`,
          );
        }
        const data = imageToSample(decoded, preprocess);
        yield { [input.name]: castTensor({ dtype: "float32", data, dims }, input.dtype, file) };
      }
    },
  );
}

/** Full-rank dims of an image input whose height and width are symbolic, from `--resize`. */
function resizedShape(
  input: ModelInputSpec,
  [height, width]: readonly [number, number],
  layout: "nchw" | "nhwc",
): number[] | undefined {
  if (input.dims.length !== 4) return undefined;
  const d = input.dims.map((x) => (typeof x === "number" ? x : 0));
  if (layout === "nchw") {
    d[2] = height;
    d[3] = width;
    if (d[1] === 0) d[1] = 3;
  } else {
    d[1] = height;
    d[2] = width;
    if (d[3] === 0) d[3] = 3;
  }
  d[input.batchAxis ?? 0] = 1;
  return d;
}

/**
 * The first batches of a data source holding at least `samples` rows (the last batch whole), kept
 * in memory for a float-vs-quantized check that runs both models on the same inputs.
 */
export async function takeBatches<B>(
  source: () => AsyncIterable<B>,
  specs: readonly ModelInputSpec[],
  samples: number,
): Promise<B[]> {
  const batches: B[] = [];
  let rows = 0;
  for await (const batch of source()) {
    batches.push(batch);
    rows += batchRows(batch as never, specs);
    if (rows >= samples) break;
  }
  return batches;
}
