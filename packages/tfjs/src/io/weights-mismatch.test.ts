import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { useBackend } from "../../test-fixtures/tfjs-env.js";
import { readModelArtifacts } from "./file-system-io.js";
import { loadLayersModelChecked } from "./load-layers-model.js";

const bundled = fileURLToPath(new URL("../../test-fixtures/mnist-cnn/model.json", import.meta.url));

describe("weights that do not fit the layers are typed errors", () => {
  it("a kernel with a permuted shape (same bytes) names the file and the weight", async () => {
    await useBackend("cpu");
    const artifacts = readModelArtifacts(bundled);
    const specs = artifacts.weightSpecs ?? [];
    const kernel = specs.find((w) => w.shape.length === 4) as (typeof specs)[number];
    kernel.shape = [...kernel.shape].reverse();
    await expect(loadLayersModelChecked(artifacts, "model.json")).rejects.toMatchObject({
      code: "invalid-model",
      message: expect.stringContaining("model.json: tfjs cannot build the model"),
    });
    expect(readFileSync(bundled, "utf8")).toContain(kernel.name);
  });

  it("a kernel stored as int32 (same bytes as float32) is refused with a typed error naming the weight", async () => {
    await useBackend("cpu");
    const artifacts = readModelArtifacts(bundled);
    const kernel = (artifacts.weightSpecs ?? []).find((w) => w.shape.length === 4) as { name: string; dtype: string };
    kernel.dtype = "int32";
    await expect(loadLayersModelChecked(artifacts, "model.json")).rejects.toMatchObject({
      code: "invalid-model",
      message: expect.stringContaining(kernel.name),
    });
  });

  it("a manifest missing a weight (bytes and list cut together) is a typed error", async () => {
    await useBackend("cpu");
    const artifacts = readModelArtifacts(bundled);
    const specs = artifacts.weightSpecs ?? [];
    const last = specs.pop() as { shape: number[] };
    const bytes = last.shape.reduce((a, b) => a * b, 1) * 4;
    const data = artifacts.weightData as ArrayBuffer;
    artifacts.weightData = data.slice(0, data.byteLength - bytes);
    await expect(loadLayersModelChecked(artifacts, "model.json")).rejects.toMatchObject({ code: "invalid-model" });
  });
});
