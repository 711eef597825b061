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
});
