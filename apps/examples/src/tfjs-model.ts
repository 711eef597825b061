/** The tfjs examples' model: the tfjs adapter's bundled CNN (trained in tfjs on wasm), on the wasm backend. */
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-wasm";
import * as tfl from "@tensorflow/tfjs-layers";
import { fileSystem, registerWasmTrainingKernels } from "@zeropoint/tfjs";

export const TFJS_CNN = join(import.meta.dirname, "../../../packages/tfjs/test-fixtures/mnist-cnn/model.json");

export async function loadCnn(): Promise<tfl.LayersModel> {
  registerWasmTrainingKernels();
  await tf.setBackend("wasm");
  return tfl.loadLayersModel(fileSystem(TFJS_CNN));
}

/** tfjs models take NHWC; with one channel that is the same memory as the NCHW batches. */
export const predict = (m: { predict(x: tf.Tensor): unknown }) => (x: Float32Array, n: number) =>
  tf.tidy(() => (m.predict(tf.tensor4d(x, [n, 28, 28, 1])) as tf.Tensor).dataSync() as Float32Array);
