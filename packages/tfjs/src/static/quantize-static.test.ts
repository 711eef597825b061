import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { recordEvidence } from "@zeropoint/test-helpers";
import { beforeAll, describe, expect, it } from "vitest";
import { mnistAccuracy, mnistImages } from "../../test-fixtures/mnist.js";
import { calibrationBatches, loadBundledCnn, predictAll, top1 } from "../../test-fixtures/models.js";
import { useBackend } from "../../test-fixtures/tfjs-env.js";
import { IntegerExecutor } from "../integer/integer-executor.js";
import { type QuantizedModel, quantizeStatic } from "./quantize-static.js";

describe("static PTQ (emulated int8) of the bundled tfjs CNN, wasm backend", () => {
  let float: tfl.LayersModel;
  let quantized: QuantizedModel;
  let floatAccuracy: number;

  beforeAll(async () => {
    await useBackend("wasm");
    float = await loadBundledCnn();
    floatAccuracy = mnistAccuracy((x) => float.predict(x) as tf.Tensor);
    quantized = await quantizeStatic(float, { calibration: calibrationBatches() });
  });

  it("the float model reaches >= 0.97 test accuracy", () => {
    console.log(`float test accuracy ${floatAccuracy.toFixed(4)}`);
    expect(floatAccuracy).toBeGreaterThanOrEqual(0.97);
  });

  it("folds both BatchNorms and emits TFMOT's scheme in the parameter JSON", () => {
    expect(quantized.foldedBatchNorms).toEqual(["b1", "b2"]);
    const names = quantized.model.layers.map((l) => l.name);
    expect(names).not.toContain("b1");
    expect(names).not.toContain("r1");
    const t = quantized.parameters.tensors;
    expect(t["c1/kernel"]?.scale).toHaveLength(16); // per channel
    expect(t["c2/kernel"]?.scale).toHaveLength(32);
    expect(t["l1/kernel"]?.scale).toHaveLength(1); // Dense: per tensor
    for (const k of ["c1/kernel", "c2/kernel", "l1/kernel", "l2/kernel"]) {
      expect(t[k]).toMatchObject({ dtype: "int8", qmin: -127, qmax: 127 });
      expect(t[k]?.zeroPoint.every((z) => z === 0)).toBe(true);
    }
    for (const a of ["c1_input", "c1", "c2", "l1", "l2"])
      expect(t[a]).toMatchObject({ dtype: "uint8", qmin: 0, qmax: 255 });
    // Same-scale layers share their input's parameters.
    expect(t.p1).toEqual(t.c1);
    expect(t.f).toEqual(t.c2);
  });

  it("stays within 0.5 points of float accuracy", () => {
    const accuracy = mnistAccuracy((x) => quantized.model.predict(x) as tf.Tensor);
    console.log(`static PTQ (emulated) accuracy ${accuracy.toFixed(4)} vs float ${floatAccuracy.toFixed(4)}`);
    expect(accuracy).toBeGreaterThanOrEqual(floatAccuracy - 0.005);
    // Accuracy alone would pass a quantizer that returned the float model: the logits must be the
    // fake-quantized output, on l2's uint8 grid (at most 256 levels), and differ from float's.
    const l2 = quantized.parameters.tensors.l2 as { scale: number[]; zeroPoint: number[] };
    const images = mnistImages("test", 0, 64);
    const x = tf.tensor4d(images.x.slice(), [64, 28, 28, 1]);
    const q = (quantized.model.predict(x) as tf.Tensor).dataSync();
    const f = (float.predict(x) as tf.Tensor).dataSync();
    x.dispose();
    let offGrid = 0;
    let differ = 0;
    for (let i = 0; i < q.length; i++) {
      const level = (q[i] as number) / (l2.scale[0] as number) + (l2.zeroPoint[0] as number);
      if (Math.abs(level - Math.round(level)) > 1e-3) offGrid++;
      if (q[i] !== f[i]) differ++;
    }
    expect(offGrid).toBe(0);
    expect(differ).toBeGreaterThan(q.length / 2);
    recordEvidence(
      "tfjs/static/emulated-int8",
      `accuracy ${accuracy.toFixed(4)} vs float ${floatAccuracy.toFixed(4)} on 2,004 test images (tfjs 4.22, wasm)`,
    );
  });

  it("every quantized weight channel has <= 255 distinct values", () => {
    for (const layer of quantized.parameters.layers) {
      if (layer.kernel === undefined) continue;
      const kernel = quantized.model.getLayer(layer.name).getWeights()[0] as tf.Tensor;
      const values = kernel.dataSync();
      const channels = quantized.parameters.tensors[layer.kernel]?.scale.length as number;
      const out = kernel.shape[kernel.shape.length - 1] as number;
      const sets = Array.from({ length: channels }, () => new Set<number>());
      for (let i = 0; i < values.length; i++) sets[channels === 1 ? 0 : i % out]?.add(values[i] as number);
      for (const s of sets) expect(s.size).toBeLessThanOrEqual(255);
    }
  });

  it("the integer executor gives the fake-quantized model's top-1 on every test image, activations within ±1 on >= 99.9%", () => {
    const test = mnistImages("test");
    const executor = IntegerExecutor.fromModel(quantized.parameters, quantized.model);
    const points = quantized.parameters.layers.filter((l) =>
      quantized.model.layers.some((m) => m.name === `${l.name}_quant`),
    );
    const probe = tfl.model({
      inputs: quantized.model.inputs,
      outputs: points.map((l) => quantized.model.getLayer(`${l.name}_quant`).output as tfl.SymbolicTensor),
    });
    let total = 0;
    let within = 0;
    let sameTop1 = 0;
    let ties = 0;
    const distinct = new Map(points.map((l) => [l.name, new Set<number>()]));
    const batch = 256;
    for (let i = 0; i < test.count; i += batch) {
      const n = Math.min(batch, test.count - i);
      const x = test.x.subarray(i * 784, (i + n) * 784);
      const run = executor.run(x, [n, 28, 28, 1], { keepActivations: true });
      const outs = tf.tidy(() =>
        (probe.predict(tf.tensor4d(x, [n, 28, 28, 1])) as tf.Tensor[]).map((t) => t.dataSync()),
      );
      for (const [k, layer] of points.entries()) {
        const fq = outs[k] as Float32Array;
        const q = quantized.parameters.tensors[layer.name];
        const ints = run.activations.get(layer.name)?.data as Uint8Array;
        const scale = q?.scale[0] as number;
        const zp = q?.zeroPoint[0] as number;
        const seen = distinct.get(layer.name) as Set<number>;
        for (let j = 0; j < fq.length; j++) {
          seen.add(fq[j] as number);
          const expected = Math.round((fq[j] as number) / scale) + zp;
          total++;
          if (Math.abs(expected - (ints[j] as number)) <= 1) within++;
        }
      }
      // The logits are uint8 (TFMOT quantizes the last Dense output too), so two classes can share
      // the top code; which of them an int8 runtime reports is its tie-breaking, not the model's.
      // Agreement: the fake-quantized top-1 is (one of) the integer model's top-scoring classes.
      const intLogits = run.activations.get(quantized.parameters.outputs[0] as string)?.data as Uint8Array;
      const fqTop = top1(outs[outs.length - 1] as Float32Array);
      for (let j = 0; j < n; j++) {
        const row = intLogits.subarray(j * 10, j * 10 + 10);
        const best = Math.max(...row);
        const tied = row.filter((v) => v === best).length;
        if (row[fqTop[j] as number] === best) sameTop1++;
        if (tied > 1) ties++;
      }
    }
    console.log(
      `integer executor: same top-1 ${sameTop1}/${test.count} (${ties} images with tied top uint8 logits), activations within ±1: ${within}/${total}`,
    );
    expect(sameTop1).toBe(test.count);
    expect(within / total).toBeGreaterThanOrEqual(0.999);
    for (const [name, seen] of distinct) {
      expect(seen.size, `distinct values of ${name}`).toBeLessThanOrEqual(256);
    }
    recordEvidence(
      "tfjs/static/integer-executor",
      `same top-1 as the fake-quantized model on ${sameTop1}/${test.count} images; activations within ±1 on ${((100 * within) / total).toFixed(3)}%`,
    );
  });

  it("cpu gives the same fake-quantized top-1 as wasm on the first 256 test images", async () => {
    const x = mnistImages("test", 0, 256).x;
    const wasmTop = top1(predictAll(quantized.model, x));
    await useBackend("cpu");
    try {
      const model = await loadBundledCnn();
      const q = await quantizeStatic(model, { calibration: calibrationBatches() });
      // Kernel parameters come from the same weights: identical. Activation ranges come from
      // float convolutions that sum in another order on cpu than on wasm: equal to 1e-5 relative.
      for (const [name, t] of Object.entries(quantized.parameters.tensors)) {
        const other = q.parameters.tensors[name];
        if (name.endsWith("/kernel")) expect(other).toEqual(t);
        else {
          expect(other?.zeroPoint).toEqual(t.zeroPoint);
          for (const [i, s] of t.scale.entries())
            expect(Math.abs((other?.scale[i] as number) / s - 1)).toBeLessThan(1e-5);
        }
      }
      const cpuTop = top1(predictAll(q.model, x));
      expect(Array.from(cpuTop)).toEqual(Array.from(wasmTop));
    } finally {
      await useBackend("wasm");
    }
  });
});
