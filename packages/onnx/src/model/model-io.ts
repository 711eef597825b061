import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { basename, dirname, isAbsolute, join, normalize, resolve } from "node:path";
import { isPathInside, onInterrupt, staleTempFiles, ZeropointError } from "@zeropoint/core";
import { LAZY_FILE_KEY, lazyExternalRange, readRange } from "./lazy-external.js";
import { ModelProtoType, type OnnxGraph, type OnnxModel, type OnnxTensor, toNumber } from "./onnx-schema.js";
import { expectedByteLength, tensorDims } from "./tensor-data.js";

/** protobuf cannot hold a message of 2 GiB or more: such models keep weights in external data. */
export const PROTOBUF_LIMIT = 2 ** 31 - 1;

/** A loaded model and where it came from. */
export interface LoadedModel {
  readonly model: OnnxModel;
  /** The file it was read from, if any (used in error messages). */
  readonly path?: string;
}

/**
 * Loads an ONNX model from a path or bytes. External tensor data (`data_location = EXTERNAL`) is read
 * relative to the model's directory (or `baseDir`) and inlined; every tensor's byte length is checked
 * against its dims and type before anything is allocated. Malformed input gives `invalid-model`
 * naming the file (never a protobuf exception).
 */
export function loadModel(
  source: string | Uint8Array,
  options: {
    baseDir?: string;
    allowDirs?: readonly string[];
    /**
     * `inline` (default) reads external tensor data into the model; `lazy` checks it the same way
     * but leaves it in its file, read one tensor at a time when a quantizer asks for it, so a model
     * of any size loads in the memory of its graph ({@link saveModel} copies what stays unchanged).
     */
    externalData?: "inline" | "lazy";
  } = {},
): LoadedModel {
  const path = typeof source === "string" ? source : undefined;
  const label = path ?? "<bytes>";
  let bytes: Uint8Array;
  if (typeof source === "string") {
    if (!existsSync(source)) throw new ZeropointError("io-error", `${source}: no such file`);
    if (statSync(source).isDirectory())
      throw new ZeropointError("io-error", `${source}: is a directory, not an ONNX model`);
    bytes = readFileSync(source);
  } else bytes = source;
  let model: OnnxModel;
  try {
    model = ModelProtoType.decode(bytes) as unknown as OnnxModel;
  } catch (cause) {
    throw new ZeropointError("invalid-model", `${label}: not a valid ONNX model (${(cause as Error).message})`, {
      cause,
    });
  }
  if (model.graph === undefined || model.graph === null || !Array.isArray(model.graph.node)) {
    throw new ZeropointError("invalid-model", `${label}: not an ONNX model (no graph)`);
  }
  if (model.opsetImport.length === 0) throw new ZeropointError("invalid-model", `${label}: model declares no opset`);
  checkGraphStructure(model.graph, label);
  const baseDir = options.baseDir ?? (path !== undefined ? dirname(resolve(path)) : undefined);
  const allowed = { baseDir, allowDirs: options.allowDirs ?? [], lazy: options.externalData === "lazy" };
  forEachTensor(model.graph, (t, where) => validateTensor(t, where, label, allowed));
  return path === undefined ? { model } : { model, path };
}

/** The largest dimension a graph input may declare: beyond int32, no runtime allocates it. */
const MAX_INPUT_DIM = 2 ** 31 - 1;

/**
 * Structural checks the protobuf decoder cannot make, so later passes never meet them as untyped
 * failures: at least one output, one initializer per name (a duplicate makes "which weight" ambiguous, and onnxruntime
 * rejects it), and graph-input dimensions a runtime could allocate.
 */
function checkGraphStructure(graph: OnnxGraph, label: string): void {
  // A model that computes nothing cannot be run, calibrated or checked.
  if (graph.output.length === 0) throw new ZeropointError("invalid-model", `${label}: the graph declares no outputs`);
  const seen = new Set<string>();
  for (const t of graph.initializer) {
    const name = t.name ?? "";
    if (seen.has(name)) {
      throw new ZeropointError("invalid-model", `${label}: initializer ${name} is defined twice`, {
        details: { tensor: name },
      });
    }
    seen.add(name);
  }
  for (const v of graph.input) {
    for (const [axis, d] of (v.type?.tensorType?.shape?.dim ?? []).entries()) {
      if (d.dimValue === undefined || d.dimValue === null) continue;
      const n = toNumber(d.dimValue);
      if (!Number.isSafeInteger(n) || n < 0 || n > MAX_INPUT_DIM) {
        throw new ZeropointError(
          "invalid-model",
          `${label}: graph input ${v.name ?? "?"} declares dimension ${axis} = ${String(d.dimValue)}, beyond what a runtime can allocate`,
          { details: { input: v.name } },
        );
      }
    }
  }
}

/**
 * The files a model file references as external data (absolute paths, not checked or read), so a
 * caller can refuse outputs that would overwrite them. A file that does not decode references none.
 */
export function externalDataFiles(path: string): string[] {
  let model: OnnxModel;
  try {
    model = ModelProtoType.decode(readFileSync(path)) as unknown as OnnxModel;
  } catch {
    return [];
  }
  if (model.graph === undefined || model.graph === null) return [];
  const dir = dirname(resolve(path));
  const files = new Set<string>();
  forEachTensor(model.graph, (t) => {
    if (t.dataLocation !== 1) return;
    const location = (t.externalData ?? []).find((e) => e.key === "location")?.value;
    if (location) files.add(resolve(dir, location));
  });
  return [...files];
}

/** Visits every tensor of a graph: initializers and Constant/attribute tensors, recursively. */
export function forEachTensor(graph: OnnxGraph, visit: (t: OnnxTensor, where: string) => void): void {
  for (const t of graph.initializer) visit(t, `initializer ${t.name ?? "?"}`);
  for (const node of graph.node) {
    for (const a of node.attribute) {
      if (a.t) visit(a.t, `attribute ${a.name} of node ${node.name ?? node.opType}`);
      for (const t of a.tensors ?? []) visit(t, `attribute ${a.name} of node ${node.name ?? node.opType}`);
      if (a.g) forEachTensor(a.g, visit);
      for (const g of a.graphs ?? []) forEachTensor(g, visit);
    }
  }
}

interface AllowedDirs {
  readonly baseDir: string | undefined;
  readonly allowDirs: readonly string[];
  /** Leave checked external data in its file (see loadModel's `externalData`). */
  readonly lazy?: boolean;
}

function validateTensor(t: OnnxTensor, where: string, label: string, allowed: AllowedDirs): void {
  for (const d of tensorDims(t)) {
    if (!Number.isSafeInteger(d) || d < 0)
      throw new ZeropointError("invalid-model", `${label}: ${where} has invalid dimension ${d}`);
  }
  const expected = expectedByteLength(t);
  if (t.dataLocation === 1) {
    readExternal(t, where, label, allowed, expected);
    return;
  }
  if (expected !== undefined && t.rawData !== undefined && t.rawData.length > 0 && t.rawData.length !== expected) {
    throw new ZeropointError(
      "invalid-model",
      `${label}: ${where} has ${t.rawData.length} bytes of data but dims [${tensorDims(t).join(", ")}] need ${expected}`,
      { details: { tensor: t.name } },
    );
  }
}

/**
 * The real path of an external-data file, or an `unsafe-path` error: after following every symlink
 * it must lie inside the model's directory or a directory the caller allowed. A downloaded model
 * must not be able to read `/etc/passwd` or `~/.ssh` through a symlink or a symlinked directory
 * (the class of onnx's external-data traversal CVEs).
 */
function resolveExternalFile(
  file: string,
  location: string,
  where: string,
  label: string,
  allowed: AllowedDirs,
): string {
  let real: string;
  try {
    real = realpathSync(file);
  } catch (cause) {
    throw new ZeropointError(
      "invalid-model",
      `${label}: ${where} external data file ${location} cannot be resolved (${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message})`,
      { cause, details: { file } },
    );
  }
  const roots = [allowed.baseDir as string, ...allowed.allowDirs].map((d) => {
    try {
      return realpathSync(d);
    } catch {
      return resolve(d);
    }
  });
  if (!roots.some((root) => isPathInside(root, real))) {
    throw new ZeropointError(
      "unsafe-path",
      `${label}: ${where} external data ${location} resolves to ${real}, outside the model directory (pass --allow-dir to permit it)`,
      { details: { file, real } },
    );
  }
  if (!statSync(real).isFile()) {
    throw new ZeropointError("invalid-model", `${label}: ${where} external data ${location} is not a regular file`, {
      details: { file: real },
    });
  }
  return real;
}

function readExternal(
  t: OnnxTensor,
  where: string,
  label: string,
  allowed: AllowedDirs,
  expected: number | undefined,
): void {
  const baseDir = allowed.baseDir;
  const entries = new Map((t.externalData ?? []).map((e) => [e.key ?? "", e.value ?? ""]));
  const location = entries.get("location");
  if (location === undefined || location === "")
    throw new ZeropointError("invalid-model", `${label}: ${where} is external but has no location`);
  if (baseDir === undefined) {
    throw new ZeropointError(
      "invalid-model",
      `${label}: ${where} uses external data; load the model from a path (or pass baseDir)`,
    );
  }
  const normalized = normalize(location);
  if (isAbsolute(normalized) || normalized.startsWith("..")) {
    throw new ZeropointError(
      "unsafe-path",
      `${label}: ${where} external location ${location} leaves the model directory`,
      { details: { location } },
    );
  }
  const joined = join(baseDir, normalized);
  if (!existsSync(joined))
    throw new ZeropointError("invalid-model", `${label}: ${where} external data file ${location} is missing`);
  const file = resolveExternalFile(joined, location, where, label, allowed);
  const fileSize = statSync(file).size;
  const offset = Number(entries.get("offset") ?? 0);
  const length = entries.has("length") ? Number(entries.get("length")) : (expected ?? fileSize - offset);
  if (
    !Number.isSafeInteger(offset) ||
    !Number.isSafeInteger(length) ||
    offset < 0 ||
    length < 0 ||
    offset + length > fileSize
  ) {
    throw new ZeropointError(
      "invalid-model",
      `${label}: ${where} external range ${offset}+${length} exceeds ${location} (${fileSize} bytes)`,
    );
  }
  if (expected !== undefined && length !== expected) {
    throw new ZeropointError(
      "invalid-model",
      `${label}: ${where} external length ${length} but dims need ${expected} bytes`,
    );
  }
  if (allowed.lazy) {
    t.externalData = [
      { key: "location", value: location },
      { key: "offset", value: String(offset) },
      { key: "length", value: String(length) },
      { key: LAZY_FILE_KEY, value: file },
    ];
    return;
  }
  t.rawData = readRange(file, offset, length);
  // Remove the fields rather than set defaults, so an inlined model encodes exactly like one that
  // never had external data.
  delete t.dataLocation;
  t.externalData = [];
}

/** Encodes a model to protobuf bytes (deterministic: same model, same bytes). */
export function encodeModel(model: OnnxModel): Uint8Array {
  return ModelProtoType.encode(model as unknown as Record<string, unknown>).finish();
}

/** Options for {@link saveModel}. */
export interface SaveOptions {
  /** `auto` (default): external data only when the protobuf would exceed 2 GiB; `always`; `never`. */
  readonly externalData?: "auto" | "always" | "never";
  /** Tensors smaller than this stay inline when external data is used (bytes, default 1024). */
  readonly externalThreshold?: number;
}

/**
 * Saves a model atomically: everything is written to temporary files beside the target and renamed
 * into place, so a failure never leaves a partial model. Weights move to `<name>.data` when requested
 * or when the protobuf would be too large. Returns the bytes written (model + data).
 */
export function saveModel(
  model: OnnxModel,
  path: string,
  options: SaveOptions = {},
): { modelBytes: number; dataBytes: number } {
  const dir = dirname(resolve(path));
  if (!existsSync(dir)) throw new ZeropointError("io-error", `cannot write ${path}: directory ${dir} does not exist`);
  if (!statSync(dir).isDirectory())
    throw new ZeropointError("io-error", `cannot write ${path}: ${dir} is not a directory`);
  if (existsSync(path) && statSync(path).isDirectory())
    throw new ZeropointError("io-error", `cannot write ${path}: it is a directory`);
  const graph = model.graph as OnnxGraph;
  let inlineBytes = 0;
  let lazyTensors = 0;
  forEachTensor(graph, (t) => {
    inlineBytes += t.rawData?.length ?? 0;
    if (lazyExternalRange(t) !== undefined) lazyTensors++;
  });
  const mode = options.externalData ?? "auto";
  if (mode === "never" && lazyTensors > 0)
    throw new ZeropointError("invalid-argument", `${path}: ${lazyTensors} tensors are still in external data files`);
  // A model loaded lazily keeps its weights in a data file: so does its output, whatever its size.
  const external =
    mode === "always" || (mode === "auto" && (lazyTensors > 0 || inlineBytes > PROTOBUF_LIMIT - 64 * 1024 * 1024));
  const suffix = `.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const tmpModel = `${path}${suffix}`;
  const dataName = `${basename(path)}.data`;
  const dataPath = join(dir, dataName);
  const tmpData = `${dataPath}${suffix}`;
  removeStaleTempFiles(dir, [basename(path), dataName]);
  // A signal between writing and renaming removes the temp files (see core's onInterrupt).
  const unregister = onInterrupt(() => {
    rmSync(tmpModel, { force: true });
    rmSync(tmpData, { force: true });
  });
  let dataBytes = 0;
  // External data is written by pointing the model's own tensors at the data file while it is
  // encoded and restoring them after: no copy of the model (a clone would double peak memory).
  const restore: (() => void)[] = [];
  try {
    if (external) {
      const threshold = options.externalThreshold ?? 1024;
      const fd = openSync(tmpData, "w");
      try {
        forEachTensor(graph, (t) => {
          const lazy = lazyExternalRange(t);
          const raw = t.rawData;
          const length = lazy?.length ?? raw?.length ?? 0;
          if (lazy === undefined && (raw === undefined || raw.length < threshold)) return;
          // 4 KiB alignment lets runtimes mmap the weights.
          const offset = Math.ceil(dataBytes / 4096) * 4096;
          if (lazy !== undefined) copyRange(lazy.file, lazy.offset, length, fd, offset);
          else writeAll(fd, raw as Uint8Array, offset);
          dataBytes = offset + length;
          const saved = { rawData: t.rawData, dataLocation: t.dataLocation, externalData: t.externalData };
          restore.push(() => Object.assign(t, saved));
          t.rawData = new Uint8Array(0);
          t.dataLocation = 1;
          t.externalData = [
            { key: "location", value: dataName },
            { key: "offset", value: String(offset) },
            { key: "length", value: String(length) },
          ];
        });
      } finally {
        closeSync(fd);
      }
    }
    const bytes = encodeModel(model);
    for (const undo of restore.splice(0).reverse()) undo();
    if (bytes.length > PROTOBUF_LIMIT) {
      throw new ZeropointError(
        "io-error",
        `${path}: the model protobuf would be ${bytes.length} bytes, above protobuf's 2 GiB limit`,
      );
    }
    writeFileSync(tmpModel, bytes);
    if (external) renameSync(tmpData, dataPath);
    renameSync(tmpModel, path);
    return { modelBytes: bytes.length, dataBytes };
  } catch (cause) {
    for (const undo of restore.reverse()) undo();
    rmSync(tmpModel, { force: true });
    rmSync(tmpData, { force: true });
    if (cause instanceof ZeropointError) throw cause;
    throw new ZeropointError("io-error", `cannot write ${path}: ${(cause as Error).message}`, { cause });
  } finally {
    unregister();
  }
}

/**
 * Removes temp files a killed writer left for these targets (`<target>.tmp-<pid>-*` whose process is
 * gone): SIGKILL cannot be handled, so the next write cleans up after it.
 */
export function removeStaleTempFiles(dir: string, targets: readonly string[]): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of staleTempFiles(names, targets)) rmSync(join(dir, name), { force: true });
}

function writeAll(fd: number, data: Uint8Array, position: number): void {
  let written = 0;
  while (written < data.length) written += writeSync(fd, data, written, data.length - written, position + written);
}

/** Copies a tensor's bytes from its source data file in 16 MiB pieces (one piece in memory). */
function copyRange(file: string, offset: number, length: number, fd: number, position: number): void {
  const piece = new Uint8Array(Math.min(length, 16 * 1024 * 1024));
  for (let done = 0; done < length; done += piece.length) {
    const n = Math.min(piece.length, length - done);
    const view = piece.subarray(0, n);
    readRange(file, offset + done, n, view);
    writeAll(fd, view, position + done);
  }
}

/**
 * The model a quantizer works on: a decoded model is deep-copied (callers' models are never
 * modified), a path or encoded bytes are loaded.
 */
export function workingCopy(input: OnnxModel | string | Uint8Array): OnnxModel {
  return typeof input === "object" && !(input instanceof Uint8Array)
    ? structuredCloneModel(input)
    : loadModel(input).model;
}

/** Deep copy of a model that shares no mutable state with the original (raw data is copied lazily by replacement). */
export function structuredCloneModel(model: OnnxModel): OnnxModel {
  return ModelProtoType.decode(encodeModel(model)) as unknown as OnnxModel;
}

/** The default-domain opset version of a model. */
export function opsetVersion(model: OnnxModel, domain = ""): number | undefined {
  const entry = model.opsetImport.find((o) => (o.domain ?? "") === domain || (domain === "" && o.domain === "ai.onnx"));
  return entry === undefined ? undefined : toNumber(entry.version);
}
