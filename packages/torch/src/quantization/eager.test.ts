import { decodeF32, mnistSplit, readSharedJson, recordEvidence } from "@zeropoint/test-helpers";
import { describe, expect, it } from "vitest";
import { eagerQuantizedCnn, top1 } from "../../test-fixtures/models.js";
import { noGrad, Tensor } from "../autograd/tensor.js";
import type { Module } from "../nn/module.js";
import { QuantizedConv2d, QuantizedLinear } from "./quantized-modules.js";
import { Quantize } from "./stubs.js";

interface ModuleRef {
  out_scale: number;
  out_zero_point: number;
  w_scale?: number[];
  w_zero_point?: number[];
  w_int?: string;
  type: string;
}
interface EagerRef {
  cnn_eager_ptq: { acc: number; logits: string; qparams: Record<string, ModuleRef> };
}
const ref = readSharedJson<EagerRef>("conformance/pytorch-quantized-cnn.json").cnn_eager_ptq;

describe("eager post-training static quantization reproduces PyTorch's (x86 engine)", () => {
  const model = eagerQuantizedCnn();
  const modules = new Map<string, Module>(model.namedModules());
  it("the QuantStub becomes Quantize with PyTorch's input scale and zero point", () => {
    const quant = modules.get("quant");
    expect(quant).toBeInstanceOf(Quantize);
    expect((quant as Quantize).scale).toBe(Math.fround(ref.qparams.quant?.out_scale as number));
    expect((quant as Quantize).zeroPoint).toBe(0);
    expect((quant as Quantize).zeroPoint).toBe(ref.qparams.quant?.out_zero_point);
  });
  for (const name of ["inner.c1", "inner.c2", "inner.l1", "inner.l2"]) {
    it(`${name}: output qparams, per-channel weight scales and int8 weights equal PyTorch's`, () => {
      const r = ref.qparams[name] as ModuleRef;
      const m = modules.get(name) as QuantizedConv2d | QuantizedLinear;
      expect(m instanceof QuantizedConv2d || m instanceof QuantizedLinear).toBe(true);
      expect(m.reluFused).toBe(r.type.endsWith("ReLU") || r.type.endsWith("ReLU2d"));
      // Output scales come from histograms of float activations; our float conv sums in another
      // order than oneDNN, so a histogram edge may move by an ulp: allowed 4 float32 ulps.
      expect(Math.abs(m.scale - r.out_scale)).toBeLessThanOrEqual(4 * 2 ** -23 * r.out_scale);
      expect(m.zeroPoint).toBe(r.out_zero_point);
      expect(Array.from(m.weight.scale)).toEqual(r.w_scale?.map(Math.fround));
      expect(Array.from(m.weight.zeroPoint)).toEqual(r.w_zero_point);
      expect(Array.from(m.weight.int)).toEqual(Array.from(decodeF32(r.w_int as string)));
    });
  }
  it("output integers on the 128 reference images equal PyTorch's", () => {
    // The logits are dequantized quint8 values `(q - zp) * scale`; recovering q from each side with
    // its own scale compares the integers exactly, independent of the ulp-level scale difference.
    const test = mnistSplit("test");
    const l2 = modules.get("inner.l2") as QuantizedLinear;
    const r = ref.qparams["inner.l2"] as ModuleRef;
    const logits = noGrad(() => model.call(new Tensor(test.images.slice(0, 128 * 784), [128, 1, 28, 28]))).data;
    const expected = decodeF32(ref.logits);
    const ours = Array.from(logits, (v) => Math.round(v / l2.scale) + l2.zeroPoint);
    const theirs = Array.from(expected, (v) => Math.round(v / r.out_scale) + r.out_zero_point);
    let differ = 0;
    for (let i = 0; i < ours.length; i++) if (ours[i] !== theirs[i]) differ++;
    console.log(`eager PTQ: ${differ}/${ours.length} output integers differ from PyTorch`);
    expect(differ).toBe(0);
    expect(top1(logits, 128)).toEqual(top1(expected, 128));
    recordEvidence("torch/static/eager", "all 1,280 output integers equal PyTorch 2.11's (x86); same top-1 on 128/128");
  });
});
