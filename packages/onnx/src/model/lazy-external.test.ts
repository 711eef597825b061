import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { mnistCalibration, sharedModelBytes } from "../../test-fixtures/mnist-eval.js";
import { calibrationSourceFromBatches } from "../calibration/calibration-source.js";
import { checkQuantizedModel } from "../check/model-check.js";
import { quantizeDynamic } from "../quantize/quantize-dynamic.js";
import { quantizeStatic } from "../quantize/quantize-static.js";
import { quantizeWeightOnly } from "../quantize/quantize-weight-only.js";
import { sessionModel } from "../runtime/session-model.js";
import { lazyExternalRange } from "./lazy-external.js";
import { encodeModel, forEachTensor, loadModel, saveModel } from "./model-io.js";
import type { OnnxGraph, OnnxModel } from "./onnx-schema.js";
import { readFloat32 } from "./tensor-data.js";

const work = mkdtempSync(join(tmpdir(), "zeropoint-lazy-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The MNIST MLP with every weight in `<dir>/mlp.onnx.data`. */
function externalMlp(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir);
  const path = join(dir, "mlp.onnx");
  saveModel(loadModel(sharedModelBytes("mlp")).model, path, { externalData: "always" });
  return path;
}

/** Every tensor's raw bytes (hex) by name, after inlining: what a runtime would read. */
function contents(path: string): Map<string, string> {
  const out = new Map<string, string>();
  forEachTensor(loadModel(path).model.graph as OnnxGraph, (t) => {
    out.set(t.name ?? "", Buffer.from(t.rawData ?? new Uint8Array(0)).toString("hex"));
  });
  return out;
}

describe("lazy external data (models of any size in the memory of their graph)", () => {
  it("loads without reading the weights, reads each on request, equal to the inlined load", () => {
    const path = externalMlp("read");
    const lazy = loadModel(path, { externalData: "lazy" }).model;
    const eager = loadModel(path).model;
    let external = 0;
    forEachTensor(lazy.graph as OnnxGraph, (t) => {
      if (lazyExternalRange(t) === undefined) return;
      external++;
      expect(t.rawData?.length ?? 0).toBe(0);
      const twin = eager.graph?.initializer.find((e) => e.name === t.name);
      expect(readFloat32(t)).toEqual(readFloat32(twin as never));
    });
    expect(external).toBeGreaterThan(0);
    // The encoded lazy model holds the graph only.
    expect(encodeModel(lazy).length).toBeLessThan(statSync(`${path}.data`).size / 10);
  });

  it("quantizes from a lazy model to the same bytes as from an inlined one; the input is untouched", async () => {
    const path = externalMlp("quantize");
    const before = readFileSync(`${path}.data`);
    for (const [label, run] of [
      ["int4", (m: OnnxModel) => quantizeWeightOnly(m, { weightType: "int4" })],
      ["dynamic", (m: OnnxModel) => quantizeDynamic(m, {})],
    ] as const) {
      const fromLazy = join(work, `lazy-${label}.onnx`);
      const fromEager = join(work, `eager-${label}.onnx`);
      const lazyResult = await run(loadModel(path, { externalData: "lazy" }).model);
      const written = saveModel(lazyResult.model, fromLazy);
      // A lazily loaded model keeps external data in its output (what stayed float is copied over).
      expect(written.dataBytes).toBeGreaterThan(0);
      saveModel((await run(loadModel(path).model)).model, fromEager);
      expect(contents(fromLazy)).toEqual(contents(fromEager));
    }
    expect(readFileSync(`${path}.data`).equals(before)).toBe(true);
  });

  it("calibrates from the data files: GPTQ and static from a lazy model equal the inlined results; the check runs", async () => {
    const path = externalMlp("calibrate");
    const data = calibrationSourceFromBatches(mnistCalibration(64));
    for (const [label, run] of [
      [
        "gptq",
        (m: OnnxModel) => quantizeWeightOnly(m, { weightType: "int4", int4Method: "gptq", calibrationData: data }),
      ],
      ["static", (m: OnnxModel) => quantizeStatic(m, { calibrationData: data })],
    ] as const) {
      const lazy = await run(loadModel(path, { externalData: "lazy" }).model);
      const eager = await run(loadModel(path).model);
      const a = join(work, `cal-lazy-${label}.onnx`);
      const b = join(work, `cal-eager-${label}.onnx`);
      saveModel(lazy.model, a);
      saveModel(eager.model, b);
      expect(contents(a)).toEqual(contents(b));
      // The float model stays lazy; the check opens it from its data file, probes included.
      const lazyFloat = loadModel(path, { externalData: "lazy" }).model;
      const batches = mnistCalibration(32);
      const check = await checkQuantizedModel(lazyFloat, lazy.model, batches, lazy.report.activations ?? {});
      const reference = await checkQuantizedModel(
        loadModel(path).model,
        eager.model,
        batches,
        eager.report.activations ?? {},
      );
      expect(check.outputs).toEqual(reference.outputs);
      // Sizes count the data file: equal up to the graph's external-data entries (names, offsets).
      expect(Math.abs(check.floatBytes / reference.floatBytes - 1)).toBeLessThan(0.01);
    }
    // The temporary graphs written beside the data file are gone.
    const { readdirSync } = await import("node:fs");
    expect(readdirSync(join(work, "calibrate")).sort()).toEqual(["mlp.onnx", "mlp.onnx.data"]);
  });

  it("a temporary session graph a killed run left beside the data is swept by the next session", async () => {
    const path = externalMlp("stale");
    const { readdirSync, writeFileSync } = await import("node:fs");
    // pid 2^22 + 1 is above Linux's largest possible pid_max (2^22): no live process has it.
    writeFileSync(join(work, "stale", ".zeropoint-session.onnx.tmp-4194305-left"), "x");
    const lazy = loadModel(path, { externalData: "lazy" }).model;
    const opened = sessionModel(lazy);
    opened.dispose();
    expect(readdirSync(join(work, "stale")).sort()).toEqual(["mlp.onnx", "mlp.onnx.data"]);
  });

  it("a saved lazy model's tensors point at the new data file only; externalData never refuses it", () => {
    const path = externalMlp("save");
    const lazy = loadModel(path, { externalData: "lazy" }).model;
    const copy = join(work, "copy.onnx");
    saveModel(lazy, copy);
    const raw = readFileSync(copy).toString("latin1");
    expect(raw).not.toContain("zeropoint:file");
    expect(raw).toContain("copy.onnx.data");
    // The in-memory model is unchanged by saving (its tensors still read from the source).
    forEachTensor(lazy.graph as OnnxGraph, (t) => {
      const r = lazyExternalRange(t);
      if (r !== undefined) expect(r.file.endsWith("mlp.onnx.data")).toBe(true);
    });
    expect(() => saveModel(lazy, join(work, "inline.onnx"), { externalData: "never" })).toThrow(
      /still in external data/,
    );
  });
});
