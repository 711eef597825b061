import { ZeropointError } from "@zeropoint/core";
import { describe, expect, it } from "vitest";
import { loadedCnn } from "../../test-fixtures/models.js";
import { noGrad, Tensor } from "../autograd/tensor.js";
import { BatchNorm2d, Conv2d, Linear, MaxPool2d, ReLU, Sequential } from "../nn/layers.js";
import { convert, prepare } from "./eager.js";
import { fuseModules } from "./fuse.js";
import { getDefaultQConfig } from "./qconfig.js";
import { QuantizedBatchNorm2d } from "./quantized-modules.js";
import { QuantizedTensor } from "./quantized-tensor.js";
import { Quantize, QuantStub, QuantWrapper } from "./stubs.js";

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (ZeropointError.isInstance(e)) return `${e.code}: ${e.message}`;
    throw e;
  }
  return undefined;
}

describe("eager quantization rejects misuse with typed errors", () => {
  it("fusing a model in training mode (batch norm statistics would be wrong)", () => {
    expect(code(() => fuseModules(loadedCnn().train(), [["c1", "b1", "r1"]]))).toMatch(/^invalid-argument: .*eval/);
  });
  it("an unsupported fusion pattern names the modules", () => {
    expect(code(() => fuseModules(loadedCnn(), [["c1", "p1"]]))).toMatch(/^unsupported-op: .*c1, p1/);
  });
  it("an unknown module name", () => {
    expect(code(() => fuseModules(loadedCnn(), [["c9", "b1"]]))).toMatch(/^invalid-argument: .*c9/);
  });
  it("convert without calibration names the observer's module", () => {
    const model = prepare(new QuantWrapper(new Sequential(["fc", new Linear(4, 2)])).eval());
    expect(code(() => convert(model))).toMatch(/^observer-not-ready: .*quant/);
  });
  it("a quantized module fed float input says to add a QuantStub", () => {
    const model = new Sequential(["quant", new QuantStub()], ["fc", new Linear(4, 2)]).eval();
    prepare(model);
    noGrad(() => model.call(new Tensor(Float32Array.of(1, -2, 3, 0.5), [1, 4])));
    convert(model);
    const fc = new Map(model.namedModules()).get("fc") as { call(x: Tensor): Tensor };
    expect(code(() => fc.call(new Tensor(new Float32Array(4), [1, 4])))).toMatch(/^invalid-argument: .*QuantStub/);
  });
  it("Quantize rejects NaN with the element index", () => {
    expect(code(() => new Quantize(0.1, 0).call(new Tensor(Float32Array.of(0, Number.NaN), [2])))).toMatch(
      /^non-finite-data: .*element 1/,
    );
  });
  it("qnnpack-prepared models are refused at convert (its requantization is not reproduced)", () => {
    const model = prepare(new QuantWrapper(new Linear(4, 2)).eval(), getDefaultQConfig("qnnpack"));
    noGrad(() => model.call(new Tensor(Float32Array.of(1, -2, 3, 0.5), [1, 4])));
    expect(code(() => convert(model))).toMatch(/^unsupported-op: .*qnnpack/);
  });
});

describe("quantized ReLU, max pooling and flatten stay quantized and exact", () => {
  it("agree with the float ops on dequantized values", () => {
    const q = new Uint8Array(2 * 1 * 4 * 4).map((_, i) => (i * 37) % 256);
    const x = new QuantizedTensor(q, [2, 1, 4, 4], 0.05, 100);
    for (const m of [new ReLU(), new MaxPool2d(2)]) {
      const y = m.call(x);
      expect(y).toBeInstanceOf(QuantizedTensor);
      const float = m.call(x.dequantize());
      expect(Array.from(y.data)).toEqual(Array.from(float.data));
    }
  });
  it("a fused conv+relu module clamps at the output zero point", () => {
    const model = new QuantWrapper(new Sequential(["c", new Conv2d(1, 2, 3)], ["r", new ReLU()])).eval();
    fuseModules(model, [["module.c", "module.r"]]);
    prepare(model);
    const input = new Tensor(
      Float32Array.from({ length: 2 * 25 }, (_, i) => Math.sin(i)),
      [2, 1, 5, 5],
    );
    noGrad(() => model.call(input));
    convert(model);
    const out = noGrad(() => model.call(input));
    expect(Math.min(...out.data)).toBeGreaterThanOrEqual(0);
  });
  it("a fused bn+relu module is within the rounding bound of the float module", () => {
    const bn = new BatchNorm2d(3);
    bn.runningMean.data.set([0.1, -0.2, 0.3]);
    bn.runningVar.data.set([0.5, 2, 1]);
    bn.weight.data.set([1.5, -0.7, 0.9]);
    bn.bias.data.set([0.05, 0.2, -0.1]);
    const model = new QuantWrapper(new Sequential(["bn", bn], ["r", new ReLU()])).eval();
    const input = new Tensor(
      Float32Array.from({ length: 2 * 3 * 16 }, (_, i) => Math.sin(i * 0.7) * 2),
      [2, 3, 4, 4],
    );
    const float = noGrad(() => model.call(input));
    fuseModules(model, [["module.bn", "module.r"]]);
    prepare(model);
    noGrad(() => model.call(input));
    convert(model);
    const modules = new Map(model.namedModules());
    const qbn = modules.get("module.bn") as QuantizedBatchNorm2d;
    expect(qbn).toBeInstanceOf(QuantizedBatchNorm2d);
    const out = noGrad(() => model.call(input));
    const sx = (modules.get("quant") as Quantize).scale;
    // Input rounding moves x by sx/2, scaled by |gamma|/sqrt(var+eps); output rounding adds sy/2.
    const gain = Math.max(
      ...[0, 1, 2].map(
        (c) => Math.abs(bn.weight.data[c] as number) / Math.sqrt((bn.runningVar.data[c] as number) + 1e-5),
      ),
    );
    const bound = (gain * sx) / 2 + qbn.scale / 2 + 1e-6;
    for (let i = 0; i < out.size; i++)
      expect(Math.abs((out.data[i] as number) - (float.data[i] as number))).toBeLessThanOrEqual(bound);
    expect(Math.min(...out.data)).toBeGreaterThanOrEqual(0);
  });
});
