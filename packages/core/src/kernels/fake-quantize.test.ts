import { decodeF32, readSharedJson } from "@zeropoint/test-helpers";
import { describe, expect, it } from "vitest";
import { computeQParams } from "../qparams/qparams.js";
import { fakeQuantize, fakeQuantizeBackward } from "./fake-quantize.js";

interface Ref {
  data: string;
  minmax_quint8_affine: { scale: number; zero_point: number };
  fake_quant_minmax_quint8: { out: string; grad: string };
}
const refs = readSharedJson<{ per_tensor: Record<string, Ref> }>("conformance/pytorch-observers.json").per_tensor;

describe("fakeQuantize, pytorch convention (torch.fake_quantize_per_tensor_affine)", () => {
  for (const [name, ref] of Object.entries(refs)) {
    it(`${name}: outputs and gradients are bit-exact`, () => {
      const x = decodeF32(ref.data);
      const qp = {
        scale: Float32Array.of(ref.minmax_quint8_affine.scale),
        zeroPoint: Int32Array.of(ref.minmax_quint8_affine.zero_point),
        dtype: "uint8" as const,
        qmin: 0,
        qmax: 255,
      };
      const { output, mask } = fakeQuantize(x, qp, { convention: "pytorch" });
      const expectedOut = decodeF32(ref.fake_quant_minmax_quint8.out);
      const expectedGrad = decodeF32(ref.fake_quant_minmax_quint8.grad);
      // Gradient of out.sum(): dy = 1 everywhere.
      const grad = fakeQuantizeBackward(new Float32Array(x.length).fill(1), mask);
      expect(Buffer.from(output.buffer).equals(Buffer.from(expectedOut.buffer))).toBe(true);
      expect(Buffer.from(grad.buffer).equals(Buffer.from(expectedGrad.buffer))).toBe(true);
    });
  }
});

describe("fakeQuantize, tflite convention", () => {
  it("rounds half up on the nudged grid and masks on the float input", () => {
    const qp = computeQParams(-64, 63.5, { scheme: { dtype: "int8" }, convention: "tflite" });
    expect([qp.scale[0], qp.zeroPoint[0]]).toEqual([0.5, 0]);
    const x = Float32Array.of(0.25, -0.25, 63.5, 63.75, -64, -70, 1.75);
    const { output, mask } = fakeQuantize(x, qp, { convention: "tflite" });
    // floor((x + 64) / 0.5 + 0.5) * 0.5 - 64: ties go up (0.25 -> 0.5, -0.25 -> 0).
    expect(Array.from(output)).toEqual([0.5, 0, 63.5, 63.5, -64, -64, 2]);
    expect(Array.from(mask)).toEqual([1, 1, 1, 0, 1, 0, 1]);
    const torch = fakeQuantize(x, qp, { convention: "pytorch" });
    // PyTorch rounds the same ties to even and masks on the rounded integer (63.75 -> 128 > 127).
    expect(Array.from(torch.output)).toEqual([0, 0, 63.5, 63.5, -64, -64, 2]);
    expect(Array.from(torch.mask)).toEqual([1, 1, 1, 0, 1, 0, 1]);
  });

  it("per-channel parameters use the channel axis", () => {
    const qp = computeQParams([-1, -10], [1, 10], {
      scheme: { dtype: "int8", symmetric: true, narrowRange: true, granularity: "per-channel", axis: 0 },
      convention: "tflite",
    });
    const x = Float32Array.of(0.5, 1.5, 5, 15);
    const { output } = fakeQuantize(x, qp, { shape: [2, 2], convention: "tflite" });
    expect(output[1]).toBeCloseTo(1, 6);
    expect(output[3]).toBeCloseTo(10, 5);
    expect(Math.abs((output[2] as number) - 5)).toBeLessThanOrEqual((qp.scale[1] as number) / 2);
  });
});
