import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tfconv from "@tensorflow/tfjs-converter";
import type * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cnnGraphModelArtifacts } from "../../test-fixtures/graph-model.js";
import { mnistAccuracy, mnistImages } from "../../test-fixtures/mnist.js";
import { loadBundledCnn, predictAll } from "../../test-fixtures/models.js";
import { useBackend } from "../../test-fixtures/tfjs-env.js";
import { inspectModel } from "../inspect/inspect-model.js";
import { fileSystem, readModelArtifacts, writeModelArtifacts } from "../io/file-system-io.js";
import { quantizeWeights } from "./quantize-weights.js";

describe("a hand-written GraphModel (Conv2D + BiasAdd + Relu + MatMul), wasm backend", () => {
  const dirs: string[] = [];
  let layers: tfl.LayersModel;
  let graphDir: string;
  beforeAll(async () => {
    await useBackend("wasm");
    layers = await loadBundledCnn();
    graphDir = mkdtempSync(join(tmpdir(), "zp-tfjs-graph-"));
    dirs.push(graphDir);
    writeModelArtifacts(graphDir, cnnGraphModelArtifacts(layers));
  });
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("gives the LayersModel's outputs within 1e-5", async () => {
    const graph = await tfconv.loadGraphModel(fileSystem(graphDir));
    const x = mnistImages("test", 0, 256).x;
    const a = predictAll(layers, x);
    const b = predictAll({ predict: (t: tf.Tensor) => graph.predict(t) as tf.Tensor }, x);
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
    console.log(`GraphModel vs LayersModel: max |difference| ${worst.toExponential(2)} over 256 images`);
    expect(worst).toBeLessThanOrEqual(1e-5);
  });

  it("goes through weight-only uint8 quantization and still loads with stock tf.loadGraphModel", async () => {
    const result = quantizeWeights(readModelArtifacts(graphDir), { weightType: "uint8" });
    const out = mkdtempSync(join(tmpdir(), "zp-tfjs-graph-q-"));
    dirs.push(out);
    writeModelArtifacts(out, result.artifacts);
    const quantized = await tfconv.loadGraphModel(fileSystem(out));
    const float = await tfconv.loadGraphModel(fileSystem(graphDir));
    const qAccuracy = mnistAccuracy((t) => quantized.predict(t) as tf.Tensor);
    const fAccuracy = mnistAccuracy((t) => float.predict(t) as tf.Tensor);
    console.log(
      `GraphModel weight-only uint8: accuracy ${qAccuracy.toFixed(4)} vs float ${fAccuracy.toFixed(4)}, bytes ${(result.bytesAfter / result.bytesBefore).toFixed(3)}x`,
    );
    expect(Math.abs(qAccuracy - fAccuracy)).toBeLessThanOrEqual(0.003);
    // The int32 Reshape shape stays as it is; every float weight is stored as uint8.
    expect(result.weights.find((w) => w.name === "f/shape")?.skipped).toBe("int32 weight");
    expect(result.weights.filter((w) => w.storedAs === "uint8")).toHaveLength(8);
  });

  it("inspect lists the graph's ops and weights", () => {
    const info = inspectModel(readModelArtifacts(graphDir));
    expect(info.kind).toBe("graph-model");
    expect(info.opCounts).toMatchObject({ Conv2D: 2, BiasAdd: 4, Relu: 3, MatMul: 2, MaxPool: 2, Reshape: 1 });
    expect(info.weights.filter((w) => w.weightOnly === "quantizable")).toHaveLength(8);
  });
});
