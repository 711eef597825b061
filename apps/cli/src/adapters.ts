import { ZeropointError } from "@zeropoint/core";

/** The model kinds the CLI knows, by file. */
export type ModelKind = "onnx" | "tfjs";

/** Which adapter handles a model path. */
export function modelKind(path: string): ModelKind {
  if (path.endsWith(".onnx")) return "onnx";
  if (path.endsWith("model.json")) return "tfjs";
  throw new ZeropointError(
    "invalid-argument",
    `${path}: unknown model type (expected a .onnx file or a tfjs model.json)`,
  );
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
