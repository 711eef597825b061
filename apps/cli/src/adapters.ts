import { closeSync, openSync, readSync } from "node:fs";
import { ZeropointError } from "@zeropoint/core";

/** The model kinds the CLI knows, by file. */
export type ModelKind = "onnx" | "tfjs";

/** Which adapter handles a model path. */
export function modelKind(path: string): ModelKind {
  if (path.endsWith(".onnx")) return "onnx";
  if (path.endsWith("model.json")) return "tfjs";
  // A tfjs model under another name (`saved_model.json`, `encoder.json`): its JSON says what it is.
  if (path.endsWith(".json") && looksLikeTfjsModel(path)) return "tfjs";
  throw new ZeropointError(
    "invalid-argument",
    `${path}: unknown model type (expected a .onnx file, or a tfjs model JSON with modelTopology and weightsManifest)`,
  );
}

function looksLikeTfjsModel(path: string): boolean {
  try {
    const fd = openSync(path, "r");
    try {
      // The two keys appear in the first bytes of a converter's output; a bounded read never loads a huge file.
      const buffer = Buffer.alloc(1 << 20);
      const n = readSync(fd, buffer, 0, buffer.length, 0);
      const head = buffer.subarray(0, n).toString("utf8");
      return head.includes('"modelTopology"') && (head.includes('"weightsManifest"') || n === buffer.length);
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

/** Loads the ONNX adapter lazily, with a clear message when it is not installed. */
export async function loadOnnxAdapter(): Promise<typeof import("@zeropoint/onnx")> {
  try {
    return await import("@zeropoint/onnx");
  } catch (cause) {
    throw new ZeropointError(
      "missing-dependency",
      "ONNX models need the ONNX adapter: npm install @zeropoint/onnx onnxruntime-node",
      { cause },
    );
  }
}

/** A command that exists for ONNX models only; say so for a tfjs model instead of failing obscurely. */
export function onnxOnly(command: string): never {
  throw new ZeropointError(
    "unsupported-op",
    `zeropoint ${command} works on ONNX models; for a tfjs model.json use quantize or inspect`,
  );
}
