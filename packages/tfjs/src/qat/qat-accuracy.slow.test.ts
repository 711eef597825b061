import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { recordEvidence, seededRandom } from "@zeropoint/test-helpers";
import { beforeAll, describe, expect, it } from "vitest";
import { mnistAccuracy, mnistImages } from "../../test-fixtures/mnist.js";
import { calibrationBatches, loadBundledCnn } from "../../test-fixtures/models.js";
import { shuffledTrainSet } from "../../test-fixtures/shuffled-train.js";
import { useBackend } from "../../test-fixtures/tfjs-env.js";
import { IntegerExecutor } from "../integer/integer-executor.js";
import { quantizeStatic } from "../static/quantize-static.js";
import type { WeightQuantConfig } from "../static/weight-scheme.js";
import { convertQat, prepareQat } from "./prepare-qat.js";

const accuracyOf = (model: tfl.LayersModel) => mnistAccuracy((x) => model.predict(x) as tf.Tensor);

async function ptqAccuracy(model: tfl.LayersModel, weights: WeightQuantConfig): Promise<number> {
  const q = await quantizeStatic(model, { calibration: calibrationBatches(), weights });
  return accuracyOf(q.model);
}

/**
 * One epoch of QAT over the 7,996-image train split, fixed seed: the epoch order comes from
 * seededRandom(11), Adam 1e-4, batch 32, `model.fit` with shuffle off. Returns the converted model.
 */
async function qatOneEpoch(float: tfl.LayersModel, weights: WeightQuantConfig) {
  const qat = await prepareQat(float, { weights });
  qat.compile({ optimizer: tf.train.adam(1e-4), loss: (y, p) => tf.losses.softmaxCrossEntropy(y, p) });
  const { x, y } = shuffledTrainSet(seededRandom(11));
  await qat.fit(x, y, { batchSize: 32, epochs: 1, shuffle: false, verbose: 0 });
  tf.dispose([x, y]);
  return { qat, converted: await convertQat(qat) };
}

describe("QAT of the bundled tfjs CNN (wasm)", () => {
  let float: tfl.LayersModel;
  let floatAccuracy: number;
  beforeAll(async () => {
    await useBackend("wasm");
    float = await loadBundledCnn();
    floatAccuracy = accuracyOf(float);
  });

  it("low-bit weights: one epoch recovers at least half of the PTQ accuracy gap", async () => {
    // Scan per-channel symmetric narrow grids from 8 bits down; take the first width whose PTQ
    // loses >= 1 point (on this model: 3 bits, -3..3, a custom quant range in core's scheme).
    let bits = 8;
    let ptq = await ptqAccuracy(float, { bits });
    while (floatAccuracy - ptq < 0.01 && bits > 2) {
      bits--;
      ptq = await ptqAccuracy(float, { bits });
    }
    expect(floatAccuracy - ptq).toBeGreaterThanOrEqual(0.01);
    const { qat, converted } = await qatOneEpoch(float, { bits });
    const qatAccuracy = accuracyOf(converted.model);
    const recovered = (qatAccuracy - ptq) / (floatAccuracy - ptq);
    console.log(
      `${bits}-bit weights: float ${floatAccuracy.toFixed(4)}, PTQ ${ptq.toFixed(4)}, QAT (1 epoch) ${qatAccuracy.toFixed(4)} (fake-quant model ${accuracyOf(qat).toFixed(4)}): ${(100 * recovered).toFixed(1)}% of the gap recovered`,
    );
    expect(recovered).toBeGreaterThanOrEqual(0.5);
    recordEvidence(
      "tfjs/qat/emulated-int8",
      `${bits}-bit weights: PTQ ${ptq.toFixed(4)} -> one QAT epoch ${qatAccuracy.toFixed(4)} (float ${floatAccuracy.toFixed(4)}), ${(100 * recovered).toFixed(1)}% of the gap`,
    );
    // The converted model has the same artifacts as static PTQ: the integer executor runs it.
    const kernel = converted.parameters.tensors["c1/kernel"];
    expect(kernel).toMatchObject({ qmin: -(2 ** (bits - 1) - 1), qmax: 2 ** (bits - 1) - 1 });
    const executor = IntegerExecutor.fromModel(converted.parameters, converted.model);
    const test = mnistImages("test", 0, 256);
    const run = executor.run(test.x, [256, 28, 28, 1]);
    expect(run.outputs.get(converted.parameters.outputs[0] as string)?.data.length).toBe(2560);
  });

  it("8-bit weights: QAT ends >= PTQ - 0.2 points", async () => {
    const ptq = await ptqAccuracy(float, { bits: 8 });
    const { converted } = await qatOneEpoch(float, { bits: 8 });
    const qatAccuracy = accuracyOf(converted.model);
    console.log(
      `8-bit weights: float ${floatAccuracy.toFixed(4)}, PTQ ${ptq.toFixed(4)}, QAT (1 epoch) ${qatAccuracy.toFixed(4)}`,
    );
    expect(qatAccuracy).toBeGreaterThanOrEqual(ptq - 0.002);
  });
});
