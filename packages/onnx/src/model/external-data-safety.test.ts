import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { sharedModelBytes } from "../../test-fixtures/mnist-eval.js";
import { encodeModel, loadModel, saveModel } from "./model-io.js";
import type { OnnxModel } from "./onnx-schema.js";

const work = mkdtempSync(join(tmpdir(), "zeropoint-external-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A model directory whose weights live in `cnn.onnx.data`, returned with its paths. */
function modelWithExternalData(name: string): { dir: string; model: string; data: string } {
  const dir = join(work, name);
  mkdirSync(dir);
  const model = join(dir, "cnn.onnx");
  saveModel(loadModel(sharedModelBytes("cnn")).model, model, { externalData: "always" });
  return { dir, model, data: `${model}.data` };
}

/** A model whose first initializer is external at `location` (nothing else changed). */
function externalAt(name: string, location: string): string {
  const dir = join(work, name);
  mkdirSync(dir);
  const model = loadModel(sharedModelBytes("cnn")).model;
  const t = model.graph?.initializer[0] as NonNullable<OnnxModel["graph"]>["initializer"][0];
  t.rawData = new Uint8Array(0);
  t.dataLocation = 1;
  t.externalData = [{ key: "location", value: location }];
  const file = join(dir, "model.onnx");
  writeFileSync(file, encodeModel(model));
  return file;
}

describe("external data stays inside the model directory", () => {
  it("a data file that is a symlink to a file outside (/etc/passwd) is an unsafe-path error naming the entry", () => {
    const m = modelWithExternalData("symlink-file");
    rmSync(m.data);
    symlinkSync("/etc/passwd", m.data);
    expect(() => loadModel(m.model)).toThrow(
      expect.objectContaining({ code: "unsafe-path", message: expect.stringContaining("cnn.onnx.data") }),
    );
  });

  it("a data file reached through a symlinked directory is refused too", () => {
    const m = modelWithExternalData("symlink-dir");
    const outside = join(work, "outside-dir");
    mkdirSync(outside);
    renameSync(m.data, join(outside, "cnn.onnx.data"));
    // The model names cnn.onnx.data; make that name a symlink to the outside copy's directory entry.
    symlinkSync(join(outside, "cnn.onnx.data"), m.data);
    expect(() => loadModel(m.model)).toThrow(expect.objectContaining({ code: "unsafe-path" }));
    // --allow-dir (allowDirs) permits exactly that directory.
    expect(loadModel(m.model, { allowDirs: [outside] }).model.graph?.initializer.length).toBeGreaterThan(0);
  });

  it("a symlink that stays inside the directory is fine", () => {
    const m = modelWithExternalData("symlink-inside");
    renameSync(m.data, join(m.dir, "weights.bin"));
    symlinkSync("weights.bin", m.data);
    expect(loadModel(m.model).model.graph?.initializer.length).toBeGreaterThan(0);
  });

  it("a data path that is a directory, or a symlink loop, is a typed error (not EISDIR/ELOOP)", () => {
    const m = modelWithExternalData("directory");
    rmSync(m.data);
    mkdirSync(m.data);
    expect(() => loadModel(m.model)).toThrow(
      expect.objectContaining({ code: "invalid-model", message: expect.stringContaining("not a regular file") }),
    );
    const loop = modelWithExternalData("loop");
    rmSync(loop.data);
    symlinkSync(`${loop.data}.b`, loop.data);
    symlinkSync(loop.data, `${loop.data}.b`);
    expect(() => loadModel(loop.model)).toThrow(expect.objectContaining({ code: "invalid-model" }));
  });

  it.each(["../outside.bin", "/etc/passwd", "sub/../../outside.bin"])(
    "a location %s that leaves the directory is an unsafe-path error",
    (location) => {
      const file = externalAt(`leaves-${location.replace(/\W/g, "_")}`, location);
      expect(() => loadModel(file)).toThrow(
        expect.objectContaining({ code: "unsafe-path", message: expect.stringContaining(location) }),
      );
    },
  );

  it("the input model and its data are never modified by a refused load", () => {
    const m = modelWithExternalData("unchanged");
    const before = readFileSync(m.model);
    rmSync(m.data);
    symlinkSync("/etc/hostname", m.data);
    expect(() => loadModel(m.model)).toThrow(expect.objectContaining({ code: "unsafe-path" }));
    expect(readFileSync(m.model).equals(before)).toBe(true);
    writeFileSync(join(m.dir, "marker"), "");
  });
});
