import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ZeropointError } from "@zeropoint/core";
import { afterAll, describe, expect, it } from "vitest";
import { useBackend } from "../../test-fixtures/tfjs-env.js";
import { inspectModel } from "../inspect/inspect-model.js";
import { readModelArtifacts } from "./file-system-io.js";
import { loadLayersModelChecked } from "./load-layers-model.js";

const bundled = fileURLToPath(new URL("../../test-fixtures/mnist-cnn", import.meta.url));
const original = JSON.parse(readFileSync(join(bundled, "model.json"), "utf8"));
const shard = original.weightsManifest[0].paths[0] as string;
const work = mkdtempSync(join(tmpdir(), "zeropoint-tfjs-fuzz-"));
copyFileSync(join(bundled, shard), join(work, shard));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const VALUES: unknown[] = [0, 1, -1, 3, 2 ** 31, 1.5, "float32", "int32", "x", null, [], {}, true, [3, 3, 1, 16]];

/** 1–3 structure-aware edits of the bundled model.json: valid JSON, wrong meaning. */
function mutated(seed: number): Record<string, unknown> {
  let s = seed >>> 0 || 1;
  const rand = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;
  const json = structuredClone(original);
  const layers = json.modelTopology.model_config?.config?.layers ?? json.modelTopology.config?.layers ?? [];
  const edits = 1 + Math.floor(rand() * 3);
  for (let i = 0; i < edits; i++) {
    // Earlier edits may have replaced the manifest with garbage: edit what is still there.
    const group =
      Array.isArray(json.weightsManifest) && isObject(json.weightsManifest[0]) ? json.weightsManifest[0] : {};
    const weights = (Array.isArray(group.weights) ? group.weights : []) as Record<string, unknown>[];
    const picked = pick(weights);
    const w = isObject(picked) ? picked : {};
    switch (Math.floor(rand() * 9)) {
      case 0:
        w.dtype = pick(["int32", "float16", "uint8", "bool", "string", "complex64", 5]);
        break;
      case 1:
        w.shape = rand() < 0.5 && Array.isArray(w.shape) ? [...(w.shape as number[])].reverse() : pick(VALUES);
        break;
      case 2:
        weights.splice(weights.indexOf(w), 1);
        break;
      case 3:
        w.name = pick([weights[0]?.name, "nothing", 7, null]);
        break;
      case 4:
        group.paths = pick([[], [shard, shard], [7], null, "x"]);
        break;
      case 5:
        json.weightsManifest = pick([null, {}, [{}], [{ paths: [shard] }], "x"]);
        break;
      case 6: {
        const layer = pick(layers) as Record<string, unknown> | undefined;
        if (layer) layer.class_name = pick(["Conv2D", "Dense", "NoSuchLayer", 3, null]);
        break;
      }
      case 7: {
        const layer = pick(layers) as { config?: Record<string, unknown> } | undefined;
        if (layer?.config)
          layer.config[pick(["filters", "units", "kernel_size", "strides", "padding", "activation"])] = pick(VALUES);
        break;
      }
      default:
        json.modelTopology = pick([null, {}, [], "x", json.modelTopology]);
        break;
    }
  }
  return json;
}

describe("fuzzing the tfjs model reader", () => {
  it("2,000 structure-mutated model.json files end in a model or a typed error (every 20th also built by tfjs)", async () => {
    await useBackend("cpu");
    const counts: Record<string, number> = {};
    let worst = 0;
    for (let seed = 1; seed <= 2_000; seed++) {
      const file = join(work, "model.json");
      writeFileSync(file, JSON.stringify(mutated(seed)));
      const started = performance.now();
      try {
        const artifacts = readModelArtifacts(file);
        inspectModel(artifacts);
        if (seed % 20 === 0) (await loadLayersModelChecked(artifacts, file)).dispose();
        counts.read = (counts.read ?? 0) + 1;
      } catch (e) {
        if (!ZeropointError.isInstance(e)) throw new Error(`seed ${seed}: untyped ${(e as Error).stack}`, { cause: e });
        counts[e.code] = (counts[e.code] ?? 0) + 1;
      }
      worst = Math.max(worst, performance.now() - started);
    }
    console.log(`tfjs reader fuzz: 2000 cases, worst ${worst.toFixed(1)} ms`, counts);
    expect(worst).toBeLessThan(10_000);
    expect(counts.read ?? 0).toBeGreaterThan(10);
    expect(
      Object.entries(counts)
        .filter(([k]) => k !== "read")
        .reduce((a, [, v]) => a + v, 0),
    ).toBeGreaterThan(500);
  }, 600_000);
});
