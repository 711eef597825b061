import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { seededRandom } from "@zeropoint/test-helpers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { top1 } from "../../test-fixtures/models.js";
import { TEST_BACKENDS, useBackend } from "../../test-fixtures/tfjs-env.js";
import { FakeQuantLayer } from "../fake-quant/fake-quant-layer.js";
import { IntegerExecutor } from "../integer/integer-executor.js";
import { fileSystem } from "../io/file-system-io.js";
import { convertQat, freezeObservers, prepareQat } from "../qat/prepare-qat.js";
import { quantizeStatic } from "./quantize-static.js";

/** A functional model with a residual Add, a DepthwiseConv2D and BatchNorms, seeded. */
function residualModel(): tfl.LayersModel {
  const init = (k: number) => tfl.initializers.glorotUniform({ seed: 40 + k });
  const input = tfl.input({ shape: [12, 12, 3], name: "image" });
  const a = tfl.layers
    .conv2d({
      name: "stem",
      filters: 8,
      kernelSize: 3,
      padding: "same",
      activation: "relu",
      kernelInitializer: init(1),
    })
    .apply(input) as tfl.SymbolicTensor;
  const d = tfl.layers
    .depthwiseConv2d({ name: "dw", kernelSize: 3, padding: "same", depthMultiplier: 1, depthwiseInitializer: init(2) })
    .apply(a) as tfl.SymbolicTensor;
  const bn = tfl.layers.batchNormalization({ name: "dw_bn" }).apply(d) as tfl.SymbolicTensor;
  const r = tfl.layers.reLU({ name: "dw_relu" }).apply(bn) as tfl.SymbolicTensor;
  const sum = tfl.layers.add({ name: "residual" }).apply([a, r]) as tfl.SymbolicTensor;
  const p = tfl.layers.maxPooling2d({ name: "pool", poolSize: 2 }).apply(sum) as tfl.SymbolicTensor;
  const f = tfl.layers.flatten({ name: "flat" }).apply(p) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ name: "head", units: 5, kernelInitializer: init(3) }).apply(f) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: out, name: "residual" });
  // Non-trivial BatchNorm statistics, so folding is visible in the numbers.
  const bnLayer = model.getLayer("dw_bn");
  const r2 = seededRandom(77);
  bnLayer.setWeights(
    bnLayer.getWeights().map((w, i) =>
      tf.tensor(
        Float32Array.from({ length: w.size }, () => (i === 3 ? 0.5 + r2() : i === 0 ? 0.5 + r2() : r2() - 0.5)),
        w.shape,
      ),
    ),
  );
  return model;
}

function batches(count: number, seed: number): Float32Array[] {
  const r = seededRandom(seed);
  return Array.from({ length: count }, () => Float32Array.from({ length: 16 * 12 * 12 * 3 }, () => r()));
}

for (const backend of TEST_BACKENDS) {
  describe(`a functional model (residual Add, DepthwiseConv2D, BatchNorm) on ${backend}`, () => {
    const dirs: string[] = [];
    beforeAll(() => useBackend(backend));
    afterAll(() => {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });

    it("static PTQ folds the depthwise BN, quantizes the Add, and the integer executor agrees", async () => {
      const model = residualModel();
      const q = await quantizeStatic(model, { calibration: batches(4, 1) });
      expect(q.foldedBatchNorms).toEqual(["dw_bn"]);
      const names = q.model.layers.map((l) => l.name);
      expect(names).toEqual(
        expect.arrayContaining(["image_quant", "stem_quant", "dw_quant", "residual_quant", "head_quant"]),
      );
      expect(names).not.toContain("pool_quant");
      expect(q.parameters.tensors["dw/kernel"]?.scale).toHaveLength(8); // per channel: ci · multiplier
      const x = batches(1, 9)[0] as Float32Array;
      const float = (model.predict(tf.tensor4d(x, [16, 12, 12, 3])) as tf.Tensor).dataSync();
      const fq = (q.model.predict(tf.tensor4d(x, [16, 12, 12, 3])) as tf.Tensor).dataSync();
      const run = IntegerExecutor.fromModel(q.parameters, q.model).run(x, [16, 12, 12, 3]);
      const ints = run.outputs.get("head")?.data as Float32Array;
      const step = q.parameters.tensors.head?.scale[0] as number;
      for (let i = 0; i < fq.length; i++)
        expect(Math.abs((ints[i] as number) - (fq[i] as number))).toBeLessThanOrEqual(2 * step + 1e-6);
      // Emulation error is a few output steps at most on this tiny random model.
      let worst = 0;
      for (let i = 0; i < fq.length; i++) worst = Math.max(worst, Math.abs((fq[i] as number) - (float[i] as number)));
      expect(worst).toBeLessThan(8 * step);
    });

    it("the fake-quantized model saves and reloads with stock tf.loadLayersModel", async () => {
      const q = await quantizeStatic(residualModel(), { calibration: batches(2, 3) });
      const dir = mkdtempSync(join(tmpdir(), "zp-tfjs-fq-"));
      dirs.push(dir);
      await q.model.save(fileSystem(dir));
      const reloaded = await tfl.loadLayersModel(fileSystem(dir));
      const x = tf.tensor4d(batches(1, 5)[0] as Float32Array, [16, 12, 12, 3]);
      expect(Array.from((reloaded.predict(x) as tf.Tensor).dataSync())).toEqual(
        Array.from((q.model.predict(x) as tf.Tensor).dataSync()),
      );
    });

    it("QAT prepares, trains with fit, freezes observers and converts", async () => {
      const model = residualModel();
      const qat = await prepareQat(model, { weights: { bits: 4 } });
      const fqLayers = qat.layers.filter((l) => l instanceof FakeQuantLayer) as FakeQuantLayer[];
      // TFMOT placement: after the input, the stem, the depthwise block's ReLU (not between dw and BN), the Add and the head.
      expect(fqLayers.map((l) => l.name).sort()).toEqual([
        "dw_relu_quant",
        "head_quant",
        "image_quant",
        "residual_quant",
        "stem_quant",
      ]);
      qat.compile({ optimizer: tf.train.adam(1e-3), loss: "meanSquaredError" });
      const x = tf.tensor4d(batches(1, 11)[0] as Float32Array, [16, 12, 12, 3]);
      const y = tf.tensor2d(
        Float32Array.from({ length: 80 }, (_, i) => (i % 5 === 0 ? 1 : 0)),
        [16, 5],
      );
      await qat.fit(x, y, { batchSize: 8, epochs: 1, shuffle: false, verbose: 0 });
      expect(fqLayers.every((l) => l.stepCount() === 2)).toBe(true);
      freezeObservers(qat);
      const frozen = fqLayers.map((l) => l.range());
      await qat.fit(x, y, { batchSize: 8, epochs: 1, shuffle: false, verbose: 0 });
      expect(fqLayers.map((l) => l.range())).toEqual(frozen);
      const converted = await convertQat(qat);
      expect(converted.foldedBatchNorms).toEqual(["dw_bn"]);
      expect(converted.parameters.tensors["stem/kernel"]).toMatchObject({ qmin: -7, qmax: 7 });
      // The QAT graph's ranges become the converted model's activation parameters.
      const stem = fqLayers.find((l) => l.name === "stem_quant")?.qparams();
      expect(converted.parameters.tensors.stem?.scale[0]).toBe(stem?.scale[0]);
      const a = top1((qat.predict(x) as tf.Tensor).dataSync(), 5);
      const b = top1((converted.model.predict(x) as tf.Tensor).dataSync(), 5);
      let same = 0;
      for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
      expect(same).toBeGreaterThanOrEqual(14);
    });
  });
}

describe("FakeQuantLayer ranges", () => {
  beforeAll(() => useBackend("cpu"));
  it("start at the first batch, follow a moving average, include 0, and stop after freezeAfterSteps", () => {
    const layer = new FakeQuantLayer({ emaDecay: 0.9, freezeAfterSteps: 2 });
    const call = (values: number[]) => layer.apply(tf.tensor1d(values), { training: true }) as tf.Tensor;
    call([1, 2, 4]);
    expect(layer.range()).toEqual({ min: 0, max: 4 });
    call([-2, 0, 14]);
    const r = layer.range() as { min: number; max: number };
    expect(r.min).toBeCloseTo(0.9 * 0 + 0.1 * -2, 6);
    expect(r.max).toBeCloseTo(0.9 * 4 + 0.1 * 14, 5);
    call([-100, 100]);
    expect(layer.range()).toEqual(r);
    expect(layer.stepCount()).toBe(2);
  });
});

describe("bad calibration data", () => {
  beforeAll(() => useBackend("cpu"));
  const cases: [string, () => (tf.Tensor | Float32Array)[], RegExp, string][] = [
    [
      "a tensor of the wrong shape",
      () => [tf.zeros([4, 12, 12, 1])],
      /batch 0 has shape \[4, 12, 12, 1\], model input image expects \[batch, 12, 12, 3\]/,
      "invalid-calibration-data",
    ],
    [
      "a flat array that is not whole samples",
      () => [new Float32Array(100)],
      /batch 0 has 100 values, not a multiple of 432/,
      "invalid-calibration-data",
    ],
    [
      "NaN values",
      () => [Float32Array.from({ length: 432 }, (_, i) => (i === 7 ? Number.NaN : 0))],
      /element 7 is NaN/,
      "non-finite-data",
    ],
    ["no batches", () => [], /calibration set is empty/, "empty-data"],
  ];
  for (const [name, data, message, code] of cases) {
    it(`${name}: a typed error`, async () => {
      await expect(quantizeStatic(residualModel(), { calibration: data() })).rejects.toMatchObject({
        code,
        message: expect.stringMatching(message),
      });
    });
  }
});
