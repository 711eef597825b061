import * as tf from "@tensorflow/tfjs-core";
import { computeQParams } from "@zeropoint/core";
import { decodeF32, readSharedJson } from "@zeropoint/test-helpers";
import { beforeAll, describe, expect, it } from "vitest";
import { TEST_BACKENDS, useBackend } from "../../test-fixtures/tfjs-env.js";
import { fakeQuant } from "./fake-quant-op.js";

interface Ref {
  data: string;
  minmax_quint8_affine: { scale: number; zero_point: number };
  fake_quant_minmax_quint8: { out: string; grad: string };
}
const refs = readSharedJson<{ per_tensor: Record<string, Ref> }>("conformance/pytorch-observers.json").per_tensor;

for (const backend of TEST_BACKENDS) {
  describe(`fakeQuant through tfjs (${backend})`, () => {
    beforeAll(() => useBackend(backend));

    for (const [name, ref] of Object.entries(refs)) {
      it(`pytorch convention reproduces torch.fake_quantize_per_tensor_affine on ${name}`, () => {
        const x = decodeF32(ref.data);
        const qparams = {
          scale: Float32Array.of(ref.minmax_quint8_affine.scale),
          zeroPoint: Int32Array.of(ref.minmax_quint8_affine.zero_point),
          dtype: "uint8" as const,
          qmin: 0,
          qmax: 255,
        };
        const input = tf.tensor1d(x);
        // Gradient of out.sum() as in the reference: tf.grad with dy = 1.
        const grad = tf.grad((t: tf.Tensor) => tf.sum(fakeQuant(t, qparams, { convention: "pytorch" })))(input);
        const out = fakeQuant(input, qparams, { convention: "pytorch" });
        const expectedOut = decodeF32(ref.fake_quant_minmax_quint8.out);
        const expectedGrad = decodeF32(ref.fake_quant_minmax_quint8.grad);
        const got = out.dataSync();
        let worst = 0;
        for (let i = 0; i < x.length; i++)
          worst = Math.max(worst, Math.abs((got[i] as number) - (expectedOut[i] as number)));
        // Required: within 1e-6. The forward pass is core's float32 kernel, so it is in fact exact.
        expect(worst).toBeLessThanOrEqual(1e-6);
        expect(Array.from(grad.dataSync())).toEqual(Array.from(expectedGrad));
        tf.dispose([input, grad, out]);
      });
    }

    it("tflite convention: straight-through gradient masked on the float input", () => {
      const qp = computeQParams(-1, 1, { scheme: { dtype: "uint8" }, convention: "tflite" });
      const x = tf.tensor1d([-2, -0.5, 0, 0.3, 0.9, 1.5]);
      const dy = tf.tensor1d([1, 2, 3, 4, 5, 6]);
      const grad = tf.grad((t: tf.Tensor) => fakeQuant(t, qp))(x, dy);
      expect(Array.from(grad.dataSync())).toEqual([0, 2, 3, 4, 5, 0]);
      tf.dispose([x, dy, grad]);
    });
  });
}
