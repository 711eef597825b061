import { mnistSplit, recordEvidence } from "@zeropoint/test-helpers";
import { describe, expect, it } from "vitest";
import { loadedCnn, top1 } from "../../test-fixtures/models.js";
import { crossEntropy } from "../autograd/loss.js";
import { noGrad, Tensor } from "../autograd/tensor.js";
import { SGD } from "../optim/optimizers.js";
import { disableObserver, FakeQuantize } from "../quantization/fake-quantize.js";
import { freezeBnStats, QatConvBn2d, QatLinear } from "../quantization/qat-modules.js";
import { QuantizedConv2d, QuantizedLinear } from "../quantization/quantized-modules.js";
import { getDefaultQatQConfigMapping } from "./qconfig-mapping.js";
import { convertFx, prepareQatFx } from "./quantize-fx.js";

describe("prepareQatFx", () => {
  it("trains with fake quantization and converts to int8 modules that agree with the fake-quantized model", () => {
    const train = mnistSplit("train");
    const model = loadedCnn().train();
    const example = new Tensor(train.images.slice(0, 784), [1, 1, 28, 28]);
    const qat = prepareQatFx(model, getDefaultQatQConfigMapping("x86"), example);
    expect(qat.getSubmodule("c1")).toBeInstanceOf(QatConvBn2d);
    expect(qat.getSubmodule("l1")).toBeInstanceOf(QatLinear);
    expect(qat.getSubmodule("activation_post_process_0")).toBeInstanceOf(FakeQuantize);
    const optimizer = new SGD(qat.parameters(), { lr: 1e-3, momentum: 0.9 });
    // Snapshot the trainable weights: QAT must actually train them (frozen weights would pass the
    // agreement check below just as well).
    const named = qat.namedParameters();
    const before = named.map(([, p]) => Float32Array.from(p.data));
    // A few steps over shuffled-enough data (every 7th image) exercise training end to end.
    for (let s = 0; s < 6; s++) {
      const idx = Array.from({ length: 32 }, (_, k) => ((s * 32 + k) * 7) % train.count);
      const x = new Float32Array(32 * 784);
      idx.forEach((i, k) => {
        x.set(train.images.subarray(i * 784, (i + 1) * 784), k * 784);
      });
      const loss = crossEntropy(
        qat.call(new Tensor(x, [32, 1, 28, 28])),
        idx.map((i) => train.labels[i] as number),
      );
      optimizer.zeroGrad();
      loss.backward();
      optimizer.step();
    }
    // Every weight tensor received gradient steps. (A conv bias followed by BatchNorm in training
    // mode gets none: the batch mean subtracts it, so its gradient is exactly zero.)
    const moved = named.map(([name, p], i) => {
      const b = before[i] as Float32Array;
      let m = 0;
      for (let j = 0; j < b.length; j++) m = Math.max(m, Math.abs((p.data[j] as number) - (b[j] as number)));
      return { name, moved: m };
    });
    const weights = moved.filter((w) => w.name.endsWith(".weight"));
    expect(weights.length).toBeGreaterThanOrEqual(6);
    for (const w of weights) expect(w.moved, w.name).toBeGreaterThan(1e-6);
    freezeBnStats(qat);
    disableObserver(qat);
    qat.eval();
    const test = mnistSplit("test");
    const input = new Tensor(test.images.slice(0, 64 * 784), [64, 1, 28, 28]);
    const emulated = noGrad(() => qat.call(input)).data;
    const converted = convertFx(qat);
    expect(converted.getSubmodule("c1")).toBeInstanceOf(QuantizedConv2d);
    expect(converted.getSubmodule("l2")).toBeInstanceOf(QuantizedLinear);
    const int8 = noGrad(() => converted.call(input)).data;
    const a = top1(emulated, 64);
    const b = top1(int8, 64);
    const same = a.filter((v, i) => v === b[i]).length;
    // Fake quantization emulates the integer model up to rounding of float sums: allow one flip.
    expect(same).toBeGreaterThanOrEqual(63);
    recordEvidence(
      "torch/qat/fx",
      `6 SGD steps moved all ${weights.length} weight tensors; converted int8 model has the fake-quantized model's top-1 on ${same}/64 images`,
    );
  });
});
