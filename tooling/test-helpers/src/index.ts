import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (two levels above this package). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

/**
 * Directory of the shared reference data: `ZEROPOINT_SHARED`, else `../shared` beside the repository.
 * Tests that need it must fail, never skip, when it is missing: this throws.
 */
export function sharedDir(): string {
  const dir = process.env.ZEROPOINT_SHARED ?? resolve(REPO_ROOT, "../shared");
  if (!existsSync(dir)) {
    throw new Error(
      `reference data not found at ${dir}: tests need ../shared beside the repository (or ZEROPOINT_SHARED)`,
    );
  }
  return dir;
}

/** Absolute path of a file in the shared reference data; throws when it is missing. */
export function sharedPath(relative: string): string {
  const path = join(sharedDir(), relative);
  if (!existsSync(path)) throw new Error(`reference file missing: ${path}`);
  return path;
}

/** Parses a JSON file from the shared reference data. */
export function readSharedJson<T = unknown>(relative: string): T {
  return JSON.parse(readFileSync(sharedPath(relative), "utf8")) as T;
}

/** Reads a little-endian float32 file from the shared reference data. */
export function readSharedF32(relative: string): Float32Array {
  const bytes = readFileSync(sharedPath(relative));
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Float32Array(copy.buffer);
}

/** Decodes base64 little-endian float32 data. */
export function decodeF32(base64: string): Float32Array {
  const bytes = Buffer.from(base64, "base64");
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Float32Array(copy.buffer);
}

/** `numpy.array_split(data, parts)`: the first `length % parts` chunks get one extra element. */
export function arraySplit(data: Float32Array, parts: number): Float32Array[] {
  const base = Math.floor(data.length / parts);
  const extra = data.length % parts;
  const out: Float32Array[] = [];
  let start = 0;
  for (let i = 0; i < parts; i++) {
    const len = base + (i < extra ? 1 : 0);
    out.push(data.subarray(start, start + len));
    start += len;
  }
  return out;
}

/** Relative difference |a - b| / |b| (absolute when b is 0). */
export function relativeDifference(a: number, b: number): number {
  return b === 0 ? Math.abs(a) : Math.abs(a - b) / Math.abs(b);
}

export {
  type MlasArithmetic,
  probeMlasArithmetic,
  type ReferenceConvArgs,
  type ReferenceMatMulArgs,
  referenceMatMulInteger,
  referenceQLinearConvAccumulators,
} from "./mlas-reference.js";
export { encodeOnnxModel, type OnnxTestNode, type OnnxTestValue } from "./onnx-model.js";

/** Deterministic PRNG (mulberry32) for reproducible random tests. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export { EMULATED_CPU, runOnEmulatedCpu } from "./emulated-cpu.js";
export { recordEvidence } from "./evidence.js";
export { type MnistSplit, mnistSplit } from "./mnist.js";
export { runReadmeExample } from "./readme-example.js";

/**
 * Whether a test title (as a support-matrix capability names it) is in a test file's source: as a
 * string literal, or as the per-backend template literal it is made from (`(wasm)` ← `(${backend})`).
 */
export function titleInSource(source: string, title: string): boolean {
  if (source.includes(`"${title}"`) || source.includes(`\`${title}\``)) return true;
  // The literal text `${backend}` as it appears inside the test file's template string.
  const template = title.replace(/\((cpu|wasm)\)$/, `(${"$"}{backend})`);
  return template !== title && source.includes(`\`${template}\``);
}
