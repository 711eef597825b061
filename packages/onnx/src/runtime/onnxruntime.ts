import { ZeropointError } from "@zeropoint/core";

/** The parts of onnxruntime-node the adapter uses. */
export type OrtModule = typeof import("onnxruntime-node");

let cached: Promise<OrtModule> | undefined;

/**
 * Loads onnxruntime-node lazily (an optional peer): quantizing without calibration or checks never
 * needs it. A missing install gives one clear `missing-dependency` error.
 */
export function loadOnnxruntime(): Promise<OrtModule> {
  cached ??= import("onnxruntime-node").catch((cause: unknown) => {
    cached = undefined;
    throw new ZeropointError(
      "missing-dependency",
      "onnxruntime-node is needed for calibration and model checks: npm install onnxruntime-node",
      { cause },
    );
  });
  return cached;
}
