import { randomBytes } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import type * as tf from "@tensorflow/tfjs-core";
import { isPathInside, onInterrupt, staleTempFiles, ZeropointError } from "@zeropoint/core";

type ModelArtifacts = tf.io.ModelArtifacts;
type WeightsManifestEntry = tf.io.WeightsManifestEntry;

/** Bytes per stored element, as tfjs-core's `DTYPE_VALUE_SIZE_MAP` (strings are not supported here). */
const BYTES_PER_ELEMENT: Readonly<Record<string, number>> = {
  float32: 4,
  int32: 4,
  bool: 1,
  uint8: 1,
  uint16: 2,
  float16: 2,
  complex64: 8,
};

/** Stored bytes of one manifest entry (its quantized dtype when quantized). */
export function storedByteLength(entry: WeightsManifestEntry, where = "model.json"): number {
  if (typeof entry !== "object" || entry === null || typeof entry.name !== "string" || entry.name === "") {
    throw new ZeropointError("invalid-model", `${where}: a weightsManifest weight has no name`, {
      details: { file: where },
    });
  }
  const dtype = entry.quantization?.dtype ?? entry.dtype;
  const size = BYTES_PER_ELEMENT[dtype];
  if (size === undefined) {
    throw new ZeropointError("invalid-model", `${where}: weight ${entry.name} has unsupported stored dtype ${dtype}`, {
      details: { file: where, weight: entry.name },
    });
  }
  if (!Array.isArray(entry.shape) || !entry.shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new ZeropointError("invalid-model", `${where}: weight ${entry.name} has an invalid shape`, {
      details: { file: where, weight: entry.name },
    });
  }
  return entry.shape.reduce((a, b) => a * b, 1) * size;
}

/** Concatenates tfjs `WeightData` (one buffer or a list of shards) into one Uint8Array. */
export function weightBytes(data: tf.io.WeightData | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  const parts = Array.isArray(data) ? data : [data];
  const total = parts.reduce((a, p) => a + p.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(new Uint8Array(p), offset);
    offset += p.byteLength;
  }
  return out;
}

function modelJsonPath(path: string): string {
  const full = resolve(path);
  if (existsSync(full) && statSync(full).isDirectory()) return join(full, "model.json");
  return full;
}

/**
 * Reads a tfjs model (model.json and its weight shards) from disk without tfjs-node, checking
 * that every shard exists and that the shards hold exactly the bytes the manifest describes.
 *
 * @param path - the model.json file, or the directory holding it.
 * @throws ZeropointError `io-error` (unreadable file, naming it) or `invalid-model`.
 */
export function readModelArtifacts(path: string, options: ReadModelOptions = {}): ModelArtifacts {
  const file = modelJsonPath(path);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (cause) {
    throw new ZeropointError("io-error", `cannot read ${file}`, { cause, details: { file } });
  }
  let json: tf.io.ModelJSON;
  try {
    json = JSON.parse(text) as tf.io.ModelJSON;
  } catch (cause) {
    throw new ZeropointError("invalid-model", `${file} is not valid JSON`, { cause, details: { file } });
  }
  if (
    typeof json !== "object" ||
    json === null ||
    typeof json.modelTopology !== "object" ||
    json.modelTopology === null
  ) {
    throw new ZeropointError("invalid-model", `${file} has no modelTopology`, { details: { file } });
  }
  const manifest = json.weightsManifest ?? [];
  if (!Array.isArray(manifest)) {
    throw new ZeropointError("invalid-model", `${file}: weightsManifest must be a list of groups`, {
      details: { file },
    });
  }
  const dir = dirname(file);
  const specs: WeightsManifestEntry[] = [];
  const buffers: Uint8Array[] = [];
  for (const [g, group] of manifest.entries()) {
    if (!Array.isArray(group?.paths) || !Array.isArray(group?.weights)) {
      throw new ZeropointError("invalid-model", `${file}: weightsManifest[${g}] needs "paths" and "weights" lists`, {
        details: { file },
      });
    }
    let groupBytes = 0;
    for (const shard of group.paths) {
      const shardFile = safeShardPath(dir, shard, file, options.allowDirs ?? []);
      const bytes = readFileSync(shardFile);
      buffers.push(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      groupBytes += bytes.byteLength;
    }
    let expected = 0;
    for (const w of group.weights) expected += storedByteLength(w, file);
    if (expected !== groupBytes) {
      throw new ZeropointError(
        "invalid-model",
        `${file}: weightsManifest[${g}] describes ${expected} bytes but its shards (${group.paths.join(", ")}) hold ${groupBytes}`,
        { details: { file, expected, actual: groupBytes } },
      );
    }
    for (const w of group.weights) {
      // Two weights of one name: tfjs would silently load one of them into both places.
      if (specs.some((seen) => seen.name === w.name)) {
        throw new ZeropointError("invalid-model", `${file}: weight ${w.name} is listed twice in weightsManifest`, {
          details: { file, weight: w.name },
        });
      }
      specs.push(w);
    }
  }
  const weightData = weightBytes(buffers.map((b) => b.slice().buffer as ArrayBuffer));
  const artifacts: ModelArtifacts = {
    modelTopology: json.modelTopology,
    weightSpecs: specs,
    weightData: weightData.buffer as ArrayBuffer,
  };
  if (json.format !== undefined) artifacts.format = json.format;
  if (json.generatedBy !== undefined) artifacts.generatedBy = json.generatedBy;
  if (json.convertedBy !== undefined) artifacts.convertedBy = json.convertedBy;
  if (json.trainingConfig !== undefined) artifacts.trainingConfig = json.trainingConfig;
  if (json.userDefinedMetadata !== undefined) artifacts.userDefinedMetadata = json.userDefinedMetadata;
  if (json.signature !== undefined) artifacts.signature = json.signature;
  if (json.modelInitializer !== undefined) artifacts.modelInitializer = json.modelInitializer;
  return artifacts;
}

/**
 * The real path of a weight shard named by a manifest, or a typed error: it must exist, be a
 * regular file, and after following symlinks lie inside the model's directory (or an allowed one).
 * A model downloaded from the internet must not read `../../home/user/.ssh/id_rsa` as weights.
 */
function safeShardPath(dir: string, shard: unknown, file: string, allowDirs: readonly string[]): string {
  if (typeof shard !== "string" || shard === "") {
    throw new ZeropointError("invalid-model", `${file}: a weightsManifest path is not a file name`, {
      details: { file },
    });
  }
  const shardFile = join(dir, shard);
  if (!existsSync(shardFile)) {
    throw new ZeropointError("io-error", `weight shard ${shardFile} listed in ${basename(file)} is missing`, {
      details: { file: shardFile },
    });
  }
  let real: string;
  try {
    real = realpathSync(shardFile);
  } catch (cause) {
    throw new ZeropointError("invalid-model", `weight shard ${shard} listed in ${basename(file)} cannot be resolved`, {
      cause,
      details: { file: shardFile },
    });
  }
  const roots = [dir, ...allowDirs].map((d) => (existsSync(d) ? realpathSync(d) : resolve(d)));
  if (!roots.some((root) => isPathInside(root, real))) {
    throw new ZeropointError(
      "unsafe-path",
      `weight shard ${shard} listed in ${basename(file)} resolves to ${real}, outside the model directory (pass --allow-dir to permit it)`,
      { details: { file: shardFile, real } },
    );
  }
  if (!statSync(real).isFile()) {
    throw new ZeropointError(
      "invalid-model",
      `weight shard ${shard} listed in ${basename(file)} is not a regular file`,
      {
        details: { file: real },
      },
    );
  }
  return real;
}

/** Options for {@link readModelArtifacts}. */
export interface ReadModelOptions {
  /** Directories besides the model's own that weight shards may resolve into. */
  readonly allowDirs?: readonly string[];
}

/** Options for {@link writeModelArtifacts}. */
export interface WriteModelOptions {
  /** Largest shard in bytes; default 4 MiB as tfjs-converter. */
  readonly shardBytes?: number;
}

/**
 * Writes model.json and weight shards (`group1-shardKofN.bin`) into `dir`. Every file is first
 * written under a temporary name and renamed only when all of them were written, model.json last,
 * so a failure leaves no partial model behind.
 */
export function writeModelArtifacts(dir: string, artifacts: ModelArtifacts, options: WriteModelOptions = {}): string {
  const out = resolve(dir);
  mkdirSync(out, { recursive: true });
  const data = weightBytes(artifacts.weightData);
  const shardBytes = options.shardBytes ?? 4 * 1024 * 1024;
  const shardCount = Math.max(1, Math.ceil(data.byteLength / shardBytes));
  const paths: string[] = [];
  const files: [string, Uint8Array | string][] = [];
  for (let s = 0; s < shardCount; s++) {
    const name = `group1-shard${s + 1}of${shardCount}.bin`;
    paths.push(name);
    files.push([name, data.subarray(s * shardBytes, Math.min(data.byteLength, (s + 1) * shardBytes))]);
  }
  const json: tf.io.ModelJSON = {
    modelTopology: artifacts.modelTopology as object,
    weightsManifest: [{ paths, weights: artifacts.weightSpecs ?? [] }],
  } as tf.io.ModelJSON;
  const extra = json as unknown as Record<string, unknown>;
  if (artifacts.format !== undefined) extra.format = artifacts.format;
  extra.generatedBy = artifacts.generatedBy ?? "zeropoint";
  extra.convertedBy = artifacts.convertedBy ?? "@zeropoint/tfjs";
  if (artifacts.trainingConfig !== undefined) extra.trainingConfig = artifacts.trainingConfig;
  if (artifacts.userDefinedMetadata !== undefined) extra.userDefinedMetadata = artifacts.userDefinedMetadata;
  if (artifacts.signature !== undefined) extra.signature = artifacts.signature;
  if (artifacts.modelInitializer !== undefined) extra.modelInitializer = artifacts.modelInitializer;
  files.push(["model.json", JSON.stringify(json)]);
  const tag = `.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  removeStaleTempFiles(
    out,
    files.map(([name]) => name),
  );
  // Listed before it is written: a write that fails half-way (ENOSPC) leaves a partial temp file too.
  const written: string[] = [];
  const unregister = onInterrupt(() => {
    for (const tmp of written) rmSync(tmp, { force: true });
  });
  try {
    for (const [name, content] of files) {
      const tmp = join(out, name + tag);
      written.push(tmp);
      writeFileSync(tmp, content);
    }
    for (const [name] of files) renameSync(join(out, name + tag), join(out, name));
  } catch (cause) {
    for (const tmp of written) rmSync(tmp, { force: true });
    throw new ZeropointError("io-error", `cannot write the model to ${out}`, { cause, details: { file: out } });
  } finally {
    unregister();
  }
  return join(out, "model.json");
}

/** Removes shards and model.json temp files that a killed writer (SIGKILL) left in `dir`. */
function removeStaleTempFiles(dir: string, targets: readonly string[]): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of staleTempFiles(names, targets)) rmSync(join(dir, name), { force: true });
}

/**
 * A tfjs `IOHandler` over the local file system, for `tf.loadLayersModel(fileSystem(path))`,
 * `tf.loadGraphModel(...)` and `model.save(fileSystem(dir))` without tfjs-node.
 *
 * @param path - for loading, the model.json file (or its directory); for saving, the directory.
 */
export function fileSystem(path: string): tf.io.IOHandler {
  return {
    load: async () => readModelArtifacts(path),
    save: async (artifacts: ModelArtifacts) => {
      writeModelArtifacts(path, artifacts);
      const topologyBytes = JSON.stringify(artifacts.modelTopology ?? {}).length;
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: "JSON",
          modelTopologyBytes: topologyBytes,
          weightSpecsBytes: JSON.stringify(artifacts.weightSpecs ?? []).length,
          weightDataBytes: weightBytes(artifacts.weightData).byteLength,
        },
      };
    },
  };
}
