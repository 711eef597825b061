/** The shared CNN (conv+bn+relu ×2, linear ×2) with PyTorch's own weights, for the torch examples. */
import { readFileSync } from "node:fs";
import { noGrad, readSafetensors, referenceCnn, type Sequential, Tensor } from "@zeropoint/torch";
import { sharedPath } from "./data.js";

export function sharedCnn(): Sequential {
  const model = referenceCnn();
  model.loadStateDict(readSafetensors(readFileSync(sharedPath("models/cnn.safetensors")), "cnn.safetensors"));
  return model.eval();
}

/** A predict function for `accuracy` from any torch-style module. */
export const predict = (m: { call(x: Tensor): Tensor }) => (x: Float32Array, n: number) =>
  noGrad(() => m.call(new Tensor(x, [n, 1, 28, 28]))).data as Float32Array;
