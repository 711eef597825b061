import { createObserver, ZeropointError } from "@zeropoint/core";
import { seededRandom } from "@zeropoint/test-helpers";
import { describe, expect, it } from "vitest";
import { mul, sum } from "../autograd/ops.js";
import { noGrad, Tensor } from "../autograd/tensor.js";
import { BatchNorm2d, Conv2d, Linear, ReLU, Sequential } from "../nn/layers.js";
import { Random } from "../nn/random.js";
import { convert } from "./eager.js";
import { disableObserver, FakeQuantize } from "./fake-quantize.js";
import { fuseModulesQat, prepareQat } from "./qat.js";
import { freezeBnStats, QatConvBn2d, QatLinear } from "./qat-modules.js";
import { getDefaultQatQConfig } from "./qconfig.js";
import { QuantizedConv2d, type QuantizedLinear } from "./quantized-modules.js";
import { QuantWrapper } from "./stubs.js";

function randomTensor(shape: number[], seed: number): Tensor {
  const rand = seededRandom(seed);
  return new Tensor(
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rand() * 2 - 1),
    shape,
  );
}

function convBn(seed: number): { conv: Conv2d; bn: BatchNorm2d } {
  const conv = new Conv2d(2, 3, 3, { padding: 1, random: new Random(seed) });
  const bn = new BatchNorm2d(3);
  bn.runningMean.data.set([0.1, -0.3, 0.2]);
  bn.runningVar.data.set([0.6, 1.7, 0.9]);
  bn.weight.data.set([1.2, -0.8, 0.5]);
  bn.bias.data.set([0.1, 0.05, -0.2]);
  return { conv, bn };
}

describe("QAT conv+bn folding", () => {
  it("with fake quantization off and frozen statistics it equals conv then batch norm (within 1e-5)", () => {
    const { conv, bn } = convBn(1);
    const x = randomTensor([2, 2, 5, 5], 2);
    const expected = noGrad(() => bn.eval().call(conv.call(x)));
    const qat = new QatConvBn2d(conv, bn, getDefaultQatQConfig("x86"), false);
    qat.weightFakeQuant.fakeQuantEnabled = false;
    freezeBnStats(qat);
    const got = noGrad(() => qat.call(x));
    for (let i = 0; i < got.size; i++)
      expect(Math.abs((got.data[i] as number) - (expected.data[i] as number))).toBeLessThanOrEqual(1e-5);
  });

  it("its gradients (input, conv weight and bias, bn weight and bias) match finite differences", () => {
    // The folded path divides by gamma/std and multiplies back; finite differences check that
    // the reciprocal and broadcasting gradients compose correctly. Fake quantization is off (its
    // straight-through gradient is not a derivative); tolerance as in the op gradient checks.
    const { conv, bn } = convBn(3);
    const qat = new QatConvBn2d(conv, bn, getDefaultQatQConfig("x86"), true);
    qat.weightFakeQuant.fakeQuantEnabled = false;
    freezeBnStats(qat);
    const x = randomTensor([1, 2, 4, 4], 4);
    x.requiresGrad = true;
    const weights = randomTensor([1, 3, 4, 4], 5);
    const loss = () => sum(mul(qat.call(x), weights));
    qat.zeroGrad();
    x.grad = undefined;
    loss().backward();
    const h = 1e-2;
    for (const t of [x, conv.weight, conv.bias as Tensor, bn.weight, bn.bias]) {
      for (let i = 0; i < t.size; i++) {
        const orig = t.data[i] as number;
        t.data[i] = orig + h;
        const up = noGrad(loss).item();
        t.data[i] = orig - h;
        const down = noGrad(loss).item();
        t.data[i] = orig;
        const numeric = (up - down) / (2 * h);
        const analytic = (t.grad as Float32Array)[i] as number;
        expect(Math.abs(analytic - numeric)).toBeLessThanOrEqual(2e-2 * Math.max(1, Math.abs(numeric)) + 2e-3);
      }
    }
  });

  it("freezeBnStats stops running statistics from moving; training updates them before", () => {
    const { conv, bn } = convBn(6);
    const qat = new QatConvBn2d(conv, bn, getDefaultQatQConfig("x86"), false).train();
    const x = randomTensor([4, 2, 5, 5], 7);
    const before = Float32Array.from(bn.runningMean.data);
    qat.call(x);
    expect(Array.from(bn.runningMean.data)).not.toEqual(Array.from(before));
    freezeBnStats(qat);
    const frozen = Float32Array.from(bn.runningMean.data);
    qat.call(x);
    expect(Array.from(bn.runningMean.data)).toEqual(Array.from(frozen));
  });
});

describe("FakeQuantize", () => {
  it("passes gradients straight through inside the range and zeroes them outside", () => {
    const fq = new FakeQuantize(createObserver("minmax", { dtype: "uint8" }));
    fq.call(new Tensor(Float32Array.of(-1, 1), [2])); // range [-1, 1]
    fq.observerEnabled = false;
    const x = new Tensor(Float32Array.of(-2, -0.5, 0.3, 0.99, 3), [5], true);
    sum(fq.call(x)).backward();
    expect(Array.from(x.grad as Float32Array)).toEqual([0, 1, 1, 1, 0]);
  });
  it("disableObserver freezes the range", () => {
    const model = prepareQat(new QuantWrapper(new Linear(3, 2)).train());
    model.call(randomTensor([2, 3], 8));
    disableObserver(model);
    const fq = new Map(model.namedModules()).get("quant.activation_post_process") as FakeQuantize;
    const before = fq.qparams().scale[0];
    model.call(new Tensor(Float32Array.of(50, -50, 9, 1, 2, 3), [2, 3]));
    expect(fq.qparams().scale[0]).toBe(before);
  });
});

describe("prepareQat and convert", () => {
  it("swap fused modules for QAT modules and then for quantized ones", () => {
    const inner = new Sequential(["c", new Conv2d(1, 2, 3)], ["b", new BatchNorm2d(2)], ["r", new ReLU()]);
    const net = new QuantWrapper(inner).train();
    fuseModulesQat(net, [["module.c", "module.b", "module.r"]]);
    prepareQat(net);
    expect(new Map(net.namedModules()).get("module.c")).toBeInstanceOf(QatConvBn2d);
    net.call(randomTensor([2, 1, 5, 5], 9));
    convert(net.eval());
    const c = new Map(net.namedModules()).get("module.c");
    expect(c).toBeInstanceOf(QuantizedConv2d);
    expect((c as QuantizedConv2d).reluFused).toBe(true);
  });
  it("convert before any forward names the module whose observer is empty", () => {
    const net = prepareQat(new QuantWrapper(new Linear(3, 2)).train());
    expect(new Map(net.namedModules()).get("module")).toBeInstanceOf(QatLinear);
    try {
      convert(net);
      expect.unreachable();
    } catch (e) {
      expect(ZeropointError.isInstance(e) && e.code).toBe("observer-not-ready");
      expect((e as Error).message).toMatch(/quant/);
    }
  });
  it("2-bit weights stay on the −2..1 grid after convert", () => {
    const net = prepareQat(
      new QuantWrapper(new Linear(8, 4)).train(),
      getDefaultQatQConfig("x86", { weightQuantMin: -2, weightQuantMax: 1 }),
    );
    net.call(randomTensor([4, 8], 10));
    convert(net);
    const q = new Map(net.namedModules()).get("module") as QuantizedLinear;
    expect(Math.min(...q.weight.int)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...q.weight.int)).toBeLessThanOrEqual(1);
    expect(new Set(q.weight.int).size).toBeGreaterThan(2);
  });
});
