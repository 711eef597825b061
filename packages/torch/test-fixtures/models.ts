import { readFileSync } from "node:fs";
import { mnistSplit, sharedPath } from "@zeropoint/test-helpers";
import { crossEntropy } from "../src/autograd/loss.js";
import { noGrad, Tensor } from "../src/autograd/tensor.js";
import { getDefaultQConfigMapping } from "../src/fx/qconfig-mapping.js";
import { convertFx, prepareFx } from "../src/fx/quantize-fx.js";
import { readSafetensors } from "../src/io/safetensors.js";
import { Sequential } from "../src/nn/layers.js";
import type { Module } from "../src/nn/module.js";
import { Random } from "../src/nn/random.js";
import { referenceCnn } from "../src/nn/reference-cnn.js";
import { SGD } from "../src/optim/optimizers.js";
import { convert, prepare } from "../src/quantization/eager.js";
import { disableObserver } from "../src/quantization/fake-quantize.js";
import { fuseModules } from "../src/quantization/fuse.js";
import { fuseModulesQat, prepareQat } from "../src/quantization/qat.js";
import { freezeBnStats } from "../src/quantization/qat-modules.js";
import { getDefaultQatQConfig, getDefaultQConfig } from "../src/quantization/qconfig.js";
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

/** Options of {@link quantizedCnn}. */
export interface QuantizedCnnOptions {
  /** Weight grid; default int8. 2-bit: −2..1. */
  readonly weightQuantMin?: number;
  readonly weightQuantMax?: number;
}

const CNN_FUSIONS = [
  ["inner.c1", "inner.b1", "inner.r1"],
  ["inner.c2", "inner.b2", "inner.r2"],
  ["inner.l1", "inner.r3"],
];

/** Eager PTQ of the shared CNN (x86 defaults, optional weight range), calibrated as the reference. */
export function ptqCnn(options: QuantizedCnnOptions = {}): Sequential {
  const model = new Sequential(
    ["quant", new QuantStub()],
    ["inner", loadedCnn()],
    ["dequant", new DeQuantStub()],
  ).eval();
  fuseModules(model, CNN_FUSIONS);
  prepare(model, getDefaultQConfig("x86", options));
  const train = mnistSplit("train");
  noGrad(() => {
    for (let b = 0; b < 8; b++)
      model.call(new Tensor(train.images.slice(b * 32 * 784, (b + 1) * 32 * 784), [32, 1, 28, 28]));
  });
  return convert(model);
}

/**
 * One epoch of eager QAT of the shared CNN from its float weights, then convert: train split
 * shuffled with seed 0, batches of 32, SGD lr 1e-3 momentum 0.9; BN statistics frozen after half
 * the epoch and observers after three quarters (the usual QAT schedule, shortened to one epoch).
 */
export function qatCnn(options: QuantizedCnnOptions = {}): Sequential {
  const model = new Sequential(
    ["quant", new QuantStub()],
    ["inner", loadedCnn()],
    ["dequant", new DeQuantStub()],
  ).train();
  fuseModulesQat(model, CNN_FUSIONS);
  prepareQat(model, getDefaultQatQConfig("x86", options));
  const train = mnistSplit("train");
  const optimizer = new SGD(model.parameters(), { lr: 1e-3, momentum: 0.9 });
  const random = new Random(0);
  const order = Array.from({ length: train.count }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random.next() * (i + 1));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  const batch = 32;
  const steps = Math.floor(train.count / batch);
  const x = new Float32Array(batch * 784);
  const y = new Uint8Array(batch);
  for (let s = 0; s < steps; s++) {
    for (let k = 0; k < batch; k++) {
      const index = order[s * batch + k] as number;
      x.set(train.images.subarray(index * 784, (index + 1) * 784), k * 784);
      y[k] = train.labels[index] as number;
    }
    if (s === Math.floor(steps / 2)) freezeBnStats(model);
    if (s === Math.floor((steps * 3) / 4)) disableObserver(model);
    const loss = crossEntropy(model.call(new Tensor(Float32Array.from(x), [batch, 1, 28, 28])), y);
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
  }
  return convert(model.eval());
}

/** The reference FX flow: trace, x86 default mapping, 8 calibration batches of 32, convert. */
export function fxCnn() {
  const train = mnistSplit("train");
  const example = new Tensor(train.images.slice(0, 784), [1, 1, 28, 28]);
  const prepared = prepareFx(loadedCnn(), getDefaultQConfigMapping("x86"), example);
  noGrad(() => {
    for (let b = 0; b < 8; b++)
      prepared.call(new Tensor(train.images.slice(b * 32 * 784, (b + 1) * 32 * 784), [32, 1, 28, 28]));
  });
  return convertFx(prepared);
}

/** Index of the largest of the 10 logits in each row. */
export function top1(logits: ArrayLike<number>, rows: number): number[] {
  return Array.from({ length: rows }, (_, r) => {
    let best = 0;
    for (let k = 1; k < 10; k++) if ((logits[r * 10 + k] as number) > (logits[r * 10 + best] as number)) best = k;
    return best;
  });
}
