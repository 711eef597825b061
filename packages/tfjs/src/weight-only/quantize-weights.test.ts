import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { recordEvidence, seededRandom } from "@zeropoint/test-helpers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mnistAccuracy } from "../../test-fixtures/mnist.js";
import { BUNDLED_CNN } from "../../test-fixtures/models.js";
import { TEST_BACKENDS, useBackend } from "../../test-fixtures/tfjs-env.js";
import { fileSystem, readModelArtifacts, weightBytes, writeModelArtifacts } from "../io/file-system-io.js";
import { quantizeWeights } from "./quantize-weights.js";

function singleWeight(values: number[]): tf.io.ModelArtifacts {
  const data = Float32Array.from(values);
  return {
    modelTopology: {},
    weightSpecs: [{ name: "w", shape: [values.length], dtype: "float32" }],
    weightData: data.buffer,
  };
}

describe("quantizeWeights (weight-only storage)", () => {
  it("minmax reproduces tfjs-converter's documented example ([0, -0.1, 1.2] → [20, 0, 255])", () => {
    const { artifacts, weights } = quantizeWeights(singleWeight([0, -0.1, 1.2]), {
      weightType: "uint8",
      method: "minmax",
      minSqnr: 0,
    });
    expect(Array.from(weightBytes(artifacts.weightData))).toEqual([20, 0, 255]);
    const q = artifacts.weightSpecs?.[0]?.quantization;
    // tfjs-converter write_weights._quantize_entry docstring: min=-0.10196078817, scale=0.00509803940852.
    expect(q?.min).toBeCloseTo(-0.10196078817, 10);
    expect(q?.scale).toBeCloseTo(0.00509803940852, 12);
    expect(weights[0]?.storedAs).toBe("uint8");
  });

  it("keeps 0 exactly representable (q = zp dequantizes to 0)", () => {
    const random = seededRandom(3);
    const values = Array.from({ length: 1000 }, () => random() * 3 - 1);
    values[17] = 0;
    for (const weightType of ["uint8", "uint16"] as const) {
      const { artifacts } = quantizeWeights(singleWeight(values), { weightType });
      const q = artifacts.weightSpecs?.[0]?.quantization as { scale: number; min: number };
      const zp = -q.min / q.scale;
      expect(Math.abs(zp - Math.round(zp))).toBeLessThan(1e-9);
      const stored = weightBytes(artifacts.weightData);
      const code = weightType === "uint8" ? stored[17] : new Uint16Array(stored.buffer)[17];
      expect((code as number) * q.scale + q.min).toBe(0);
    }
  });

  it("the MSE range is never worse than raw min/max (one outlier; Laplace tails)", () => {
    const random = seededRandom(5);
    const outlier = Array.from({ length: 4096 }, () => (random() + random() + random() - 1.5) * 0.1);
    outlier[100] = 3;
    const laplace = Array.from({ length: 65536 }, () => {
      const u = random() - 0.5;
      return -0.05 * Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
    });
    for (const [name, values] of [
      ["one outlier", outlier],
      ["laplace", laplace],
    ] as const) {
      const sqnrOf = (method: "mse" | "minmax") =>
        quantizeWeights(singleWeight(values), { weightType: "uint8", method, minSqnr: 0 }).weights[0]?.sqnr as number;
      const [mse, minmax] = [sqnrOf("mse"), sqnrOf("minmax")];
      console.log(`${name}: SQNR mse ${mse.toFixed(2)} dB, minmax ${minmax.toFixed(2)} dB`);
      expect(mse).toBeGreaterThanOrEqual(minmax);
    }
  });

  it("quantizes an all-positive weight (e.g. BatchNorm variance) with a range that still holds 0", () => {
    const values = [0.9, 1.1, 1.3, 0.95, 1.05];
    const { weights } = quantizeWeights(singleWeight(values), { weightType: "uint8" });
    expect(weights[0]?.storedAs).toBe("uint8");
    expect(weights[0]?.min).toBe(0);
    expect(weights[0]?.sqnr).toBeGreaterThan(40);
  });

  it("keeps a weight float32 when its SQNR would fall below minSqnr, and says why", () => {
    const random = seededRandom(9);
    const values = Array.from({ length: 512 }, () => random() - 0.5);
    const { weights, bytesAfter, bytesBefore } = quantizeWeights(singleWeight(values), {
      weightType: "uint8",
      minSqnr: 80,
    });
    expect(weights[0]?.storedAs).toBe("float32");
    expect(weights[0]?.skipped).toMatch(/SQNR .* dB < 80 dB/);
    expect(bytesAfter).toBe(bytesBefore);
  });

  it("does not modify its input", () => {
    const input = singleWeight([0.5, -0.25, 1]);
    const before = new Uint8Array(weightBytes(input.weightData)).slice();
    quantizeWeights(input, { weightType: "uint8" });
    expect(Array.from(weightBytes(input.weightData))).toEqual(Array.from(before));
    expect(input.weightSpecs?.[0]?.quantization).toBeUndefined();
  });
});

for (const backend of TEST_BACKENDS) {
  describe(`weight-only artifacts of the bundled CNN load with stock tf.loadLayersModel (${backend})`, () => {
    const dirs: string[] = [];
    let floatAccuracy: number;
    beforeAll(async () => {
      await useBackend(backend);
      const float = await tfl.loadLayersModel(fileSystem(BUNDLED_CNN));
      floatAccuracy = mnistAccuracy((x) => float.predict(x) as tf.Tensor);
    });
    afterAll(() => {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });

    const check = async (weightType: "uint8" | "uint16" | "float16") => {
      const source = readModelArtifacts(BUNDLED_CNN);
      const result = quantizeWeights(source, { weightType });
      const dir = mkdtempSync(join(tmpdir(), "zp-tfjs-wo-"));
      dirs.push(dir);
      writeModelArtifacts(dir, result.artifacts);
      const loaded = await tfl.loadLayersModel(fileSystem(dir));
      const accuracy = mnistAccuracy((x) => loaded.predict(x) as tf.Tensor);
      const ratio = result.bytesAfter / result.bytesBefore;
      console.log(
        `${backend} weight-only ${weightType}: accuracy ${accuracy.toFixed(4)} (float ${floatAccuracy.toFixed(4)}), weight bytes ${result.bytesAfter}/${result.bytesBefore} = ${ratio.toFixed(3)}x`,
      );
      expect(Math.abs(accuracy - floatAccuracy)).toBeLessThanOrEqual(0.003);
      expect(ratio).toBeLessThanOrEqual(weightType === "uint8" ? 0.3 : 0.51);
      if (backend === "wasm" && weightType === "uint8") {
        recordEvidence(
          "tfjs/weight-only/storage",
          `loads with stock tf.loadLayersModel in tfjs 4.22 (wasm); accuracy ${accuracy.toFixed(4)} vs float ${floatAccuracy.toFixed(4)}; ${ratio.toFixed(3)}x the weight bytes`,
        );
      }
      // What tfjs loaded is exactly what the report measured: q·scale + min (or the float16 value).
      const stored = weightBytes(result.artifacts.weightData);
      let offset = 0;
      for (const [k, spec] of (result.artifacts.weightSpecs ?? []).entries()) {
        const report = result.weights[k];
        const n = spec.shape.reduce((a, b) => a * b, 1);
        const loadedWeight = loaded.weights.find((w) => w.originalName === spec.name);
        expect(loadedWeight, spec.name).toBeDefined();
        const got = loadedWeight?.read().dataSync() as Float32Array;
        if (spec.quantization?.dtype === "uint8" || spec.quantization?.dtype === "uint16") {
          const q = spec.quantization as { scale: number; min: number; dtype: string };
          const codes =
            q.dtype === "uint8"
              ? stored.subarray(offset, offset + n)
              : new Uint16Array(stored.slice(offset, offset + 2 * n).buffer);
          for (let i = 0; i < n; i++) expect(got[i]).toBe(Math.fround((codes[i] as number) * q.scale + q.min));
          expect(report?.sqnr).toBeGreaterThan(weightType === "uint8" ? 20 : 40);
        }
        offset += n * (spec.quantization?.dtype === "uint8" ? 1 : spec.quantization !== undefined ? 2 : 4);
      }
    };
    it("uint8: within 0.3 points of float, <= 0.3x the float weight bytes", () => check("uint8"));
    it("uint16: within 0.3 points of float", () => check("uint16"));
    it("float16: within 0.3 points of float", () => check("float16"));
  });
}
