import * as tf from "@tensorflow/tfjs-core";
import { computeQParams, fakeQuantize } from "@zeropoint/core";
import { decodeF32, readSharedJson, seededRandom } from "@zeropoint/test-helpers";
import { beforeAll, describe, expect, it } from "vitest";
import { TEST_BACKENDS, useBackend } from "../../test-fixtures/tfjs-env.js";
import { fakeQuant, fakeQuantInference } from "./fake-quant-op.js";

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

for (const backend of TEST_BACKENDS) {
  describe(`fakeQuantInference (${backend})`, () => {
    beforeAll(() => useBackend(backend));
    it("is bit-identical to core's tflite fakeQuantize, ties and clipping included", () => {
      const random = seededRandom(21);
      const qp = computeQParams(-1.3, 2.7, { scheme: { dtype: "uint8" }, convention: "tflite" });
      const scale = qp.scale[0] as number;
      const zp = qp.zeroPoint[0] as number;
      const values = new Float32Array(100_000);
      for (let i = 0; i < values.length; i++) {
        // A third exact ties (k + 0.5 steps), the rest spread over and beyond the range.
        values[i] = i % 3 === 0 ? (Math.floor(random() * 300) - 30 - zp + 0.5) * scale : random() * 6 - 2.5;
      }
      const expected = fakeQuantize(values, qp, { convention: "tflite" }).output;
      const t = tf.tensor1d(values);
      const got = fakeQuantInference(t, qp).dataSync() as Float32Array;
      expect(Buffer.from(got.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
      t.dispose();
    });
  });
}
