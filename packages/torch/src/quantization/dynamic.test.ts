import { decodeF32, mnistSplit, readSharedJson, recordEvidence } from "@zeropoint/test-helpers";
import { describe, expect, it } from "vitest";
import { loadedCnn, top1 } from "../../test-fixtures/models.js";
import { noGrad, Tensor } from "../autograd/tensor.js";
import { DynamicQuantizedLinear, quantizeDynamic } from "./dynamic.js";

interface DynamicRef {
  cnn_dynamic: {
    logits: string;
    modules: Record<string, { w_scale: number[]; w_zero_point: number[]; w_int: string }>;
  };
}
const ref = readSharedJson<DynamicRef>("conformance/pytorch-quantized-cnn.json").cnn_dynamic;

// Acceptance (issue 5, cnn_dynamic): int8 weights and scales equal to PyTorch's; logits with the same
// top-1 on all 128 reference images and within 1e-3 of the logit range.
describe("quantizeDynamic reproduces PyTorch's dynamic quantization of the shared CNN", () => {
  const model = quantizeDynamic(loadedCnn());
  for (const name of ["l1", "l2"]) {
    it(`${name}: int8 weights and scale equal to PyTorch's`, () => {
      const module = model.namedChildren().find(([n]) => n === name)?.[1] as DynamicQuantizedLinear;
      expect(module).toBeInstanceOf(DynamicQuantizedLinear);
      const expected = decodeF32(ref.modules[name]?.w_int as string);
      expect(Array.from(module.weightInt)).toEqual(Array.from(expected));
      expect(module.weightScale).toBe(Math.fround(ref.modules[name]?.w_scale[0] as number));
      expect(module.weightZeroPoint).toBe(ref.modules[name]?.w_zero_point[0]);
    });
  }
  it("logits: same top-1 on all 128 images, within 1e-3 of the logit range", () => {
    const test = mnistSplit("test");
    const logits = noGrad(() => model.call(new Tensor(test.images.slice(0, 128 * 784), [128, 1, 28, 28]))).data;
    const expected = decodeF32(ref.logits);
    expect(top1(logits, 128)).toEqual(top1(expected, 128));
    const range = Math.max(...expected) - Math.min(...expected);
    let worst = 0;
    for (let i = 0; i < expected.length; i++)
      worst = Math.max(worst, Math.abs((logits[i] as number) - (expected[i] as number)));
    expect(worst).toBeLessThanOrEqual(1e-3 * range);
    recordEvidence(
      "torch/dynamic/eager",
      `same top-1 as PyTorch on 128/128; max logit difference ${(worst / range).toExponential(1)} of the range`,
    );
  });
});
