import { readFileSync } from "node:fs";
import { mnistSplit, sharedPath } from "@zeropoint/test-helpers";
import { noGrad, Tensor } from "../src/autograd/tensor.js";
import { readSafetensors } from "../src/io/safetensors.js";
import { Sequential } from "../src/nn/layers.js";
import type { Module } from "../src/nn/module.js";
import { referenceCnn } from "../src/nn/reference-cnn.js";
import { convert, prepare } from "../src/quantization/eager.js";
import { fuseModules } from "../src/quantization/fuse.js";
import { getDefaultQConfig } from "../src/quantization/qconfig.js";
import { DeQuantStub, QuantStub } from "../src/quantization/stubs.js";

/** The shared CNN with its PyTorch weights, in eval mode. */
export function loadedCnn() {
  const model = referenceCnn();
  model.loadStateDict(readSafetensors(readFileSync(sharedPath("models/cnn.safetensors")), "cnn.safetensors"));
  return model.eval();
}

/** Test-split accuracy of a module on MNIST (batches of 256). */
export function mnistAccuracy(model: Module): number {
  const test = mnistSplit("test");
  let ok = 0;
  for (let start = 0; start < test.count; start += 256) {
    const n = Math.min(256, test.count - start);
    const logits = noGrad(() =>
      model.call(new Tensor(test.images.slice(start * 784, (start + n) * 784), [n, 1, 28, 28])),
    ).data;
    for (let r = 0; r < n; r++) {
      let best = 0;
      for (let k = 1; k < 10; k++) if ((logits[r * 10 + k] as number) > (logits[r * 10 + best] as number)) best = k;
      if (best === test.labels[start + r]) ok++;
    }
  }
  return ok / test.count;
}

/** The reference flow: QuantStub, the CNN as `inner`, DeQuantStub; fuse; x86 qconfig; 8 batches of 32. */
export function eagerQuantizedCnn(): Sequential {
  const model = new Sequential(
    ["quant", new QuantStub()],
    ["inner", loadedCnn()],
    ["dequant", new DeQuantStub()],
  ).eval();
  fuseModules(model, [
    ["inner.c1", "inner.b1", "inner.r1"],
    ["inner.c2", "inner.b2", "inner.r2"],
    ["inner.l1", "inner.r3"],
  ]);
  prepare(model, getDefaultQConfig("x86"));
  const train = mnistSplit("train");
  noGrad(() => {
    for (let b = 0; b < 8; b++)
      model.call(new Tensor(train.images.slice(b * 32 * 784, (b + 1) * 32 * 784), [32, 1, 28, 28]));
  });
  return convert(model);
}
