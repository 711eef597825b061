import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
// Registers tfjs-core's gradients (tfjs-core alone has none in Node).
import "@tensorflow/tfjs-layers";
import { registerWasmTrainingKernels } from "../src/backends/wasm-training-kernels.js";

/** The backends the tests run on: tfjs-node cannot be installed on these machines (see README). */
export const TEST_BACKENDS = ["cpu", "wasm"] as const;
export type TestBackend = (typeof TEST_BACKENDS)[number];

/** Selects a backend (and, for wasm, the training kernels it lacks). */
export async function useBackend(name: TestBackend): Promise<void> {
  if (name === "wasm") registerWasmTrainingKernels();
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tfjs backend ${name} failed to initialize`);
  await tf.ready();
}
