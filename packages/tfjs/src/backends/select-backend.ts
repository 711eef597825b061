import * as tf from "@tensorflow/tfjs-core";
import { ZeropointError } from "@zeropoint/core";
import { registerWasmTrainingKernels } from "./wasm-training-kernels.js";

/** The tfjs backends zeropoint selects from, fastest first, and the package each needs. */
export const TFJS_BACKENDS = {
  tensorflow: "@tensorflow/tfjs-node",
  wasm: "@tensorflow/tfjs-backend-wasm",
  cpu: "@tensorflow/tfjs-backend-cpu",
} as const;

/** A backend name of {@link TFJS_BACKENDS}. */
export type TfjsBackendName = keyof typeof TFJS_BACKENDS;

/**
 * Imports and activates a tfjs backend lazily: the preferred one, or the first that loads of
 * tfjs-node (not installable where its install cannot download libtensorflow), wasm (SIMD, ~17x
 * the cpu backend here), cpu. All are optional peers; returns the active backend's name.
 */
export async function selectBackend(preferred?: string): Promise<TfjsBackendName> {
  if (preferred !== undefined && !(preferred in TFJS_BACKENDS))
    throw new ZeropointError("invalid-argument", `the tfjs backend must be tensorflow, wasm or cpu, got ${preferred}`);
  const candidates = (preferred !== undefined ? [preferred] : Object.keys(TFJS_BACKENDS)) as TfjsBackendName[];
  for (const name of candidates) {
    const pkg = TFJS_BACKENDS[name];
    try {
      await import(pkg);
    } catch (cause) {
      if (preferred !== undefined)
        throw new ZeropointError(
          "missing-dependency",
          `the tfjs backend ${name} needs ${pkg}, which is not installed`,
          {
            cause,
          },
        );
      continue;
    }
    if (name === "wasm") registerWasmTrainingKernels();
    if (await tf.setBackend(name)) {
      await tf.ready();
      return name;
    }
  }
  throw new ZeropointError(
    "missing-dependency",
    "no tfjs backend could be initialized (install @tensorflow/tfjs-backend-wasm)",
  );
}
