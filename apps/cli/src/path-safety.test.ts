import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "./test-support.js";

const work = mkdtempSync(join(tmpdir(), "zeropoint-paths-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const bundled = fileURLToPath(new URL("../assets/mnist-cnn.onnx", import.meta.url));
const tfjsModel = fileURLToPath(new URL("../../../packages/tfjs/test-fixtures/mnist-cnn", import.meta.url));

function copyOf(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir);
  const file = join(dir, "model.onnx");
  cpSync(bundled, file);
  return file;
}

describe("no command writes over what it reads", () => {
  it("tune -o <the input>, --report <the input> and -o <a symlink to the input> are refused; the input is unchanged", async () => {
    const input = copyOf("tune");
    const before = readFileSync(input);
    const common = ["--calib-data", "mnist:train", "--eval-data", "mnist:test-even"];
    const overwrite = await runCli(["tune", input, "-o", input, ...common]);
    expect(overwrite.code).toBe(2);
    expect(overwrite.err).toContain("would overwrite");
    const report = await runCli(["tune", input, "-o", join(work, "tune", "out.onnx"), "--report", input, ...common]);
    expect(report.code).toBe(2);
    expect(report.err).toContain("--report");
    const link = join(work, "tune", "link.onnx");
    symlinkSync(input, link);
    const viaLink = await runCli(["quantize", input, "-o", link, "--approach", "dynamic"]);
    expect(viaLink.code).toBe(2);
    expect(viaLink.err).toContain("would overwrite");
    expect(readFileSync(input).equals(before)).toBe(true);
    expect(existsSync(join(work, "tune", "out.onnx"))).toBe(false);
  });

  it("compare --out <the input model> is refused before the comparison runs", async () => {
    const input = copyOf("compare");
    const before = readFileSync(input);
    const r = await runCli(["compare", input, "--out", input]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--out");
    expect(readFileSync(input).equals(before)).toBe(true);
  });

  it("a tfjs -o that is a symlink to the input model's directory is refused and the model is unchanged", async () => {
    const dir = join(work, "tfjs-in");
    cpSync(tfjsModel, dir, { recursive: true });
    const before = readFileSync(join(dir, "model.json"));
    const link = join(work, "tfjs-link");
    symlinkSync(dir, link);
    const r = await runCli(["quantize", join(dir, "model.json"), "-o", link, "--approach", "weight-only"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("input model's directory");
    expect(readFileSync(join(dir, "model.json")).equals(before)).toBe(true);
  });

  it("inspect and quantize refuse a tfjs manifest that reads outside its directory (unsafe-path), unless --allow-dir", async () => {
    const dir = join(work, "tfjs-traversal");
    cpSync(tfjsModel, dir, { recursive: true });
    const manifestFile = join(dir, "model.json");
    const manifest = JSON.parse(readFileSync(manifestFile, "utf8"));
    const shard = manifest.weightsManifest[0].paths[0];
    cpSync(join(dir, shard), join(work, "outside.bin"));
    manifest.weightsManifest[0].paths[0] = "../outside.bin";
    const { writeFileSync } = await import("node:fs");
    writeFileSync(manifestFile, JSON.stringify(manifest));
    const inspect = await runCli(["inspect", manifestFile]);
    expect(inspect.code).toBe(1);
    expect(inspect.err).toContain("unsafe-path");
    const quantize = await runCli([
      "quantize",
      manifestFile,
      "-o",
      join(work, "tfjs-out"),
      "--approach",
      "weight-only",
    ]);
    expect(quantize.code).toBe(1);
    expect(quantize.err).toContain("unsafe-path");
    expect(existsSync(join(work, "tfjs-out"))).toBe(false);
    const allowed = await runCli(["inspect", manifestFile, "--allow-dir", work, "--json"]);
    expect(allowed.code).toBe(0);
  });
});
