import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { npy, runCli } from "./test-support.js";

const work = mkdtempSync(join(tmpdir(), "zeropoint-calib-files-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const model = new URL("../assets/mnist-cnn.onnx", import.meta.url).pathname;

describe("calibration entries that are not files", () => {
  it.each([
    ["a directory named like a sample", (dir: string) => mkdirSync(join(dir, "b.npy")), "is a directory"],
    [
      "a symlink loop",
      (dir: string) => {
        symlinkSync(join(dir, "c.npy"), join(dir, "b.npy"));
        symlinkSync(join(dir, "b.npy"), join(dir, "c.npy"));
      },
      "symlink loop",
    ],
  ])("%s is a typed error naming it, and nothing is written", async (_label, make, message) => {
    const dir = mkdtempSync(join(work, "samples-"));
    writeFileSync(join(dir, "a.npy"), npy([1, 28, 28], new Float32Array(784).fill(0.5)));
    make(dir);
    const out = join(dir, "..", `${Math.random().toString(36).slice(2)}.onnx`);
    const r = await runCli(["quantize", model, "-o", out, "--calib-data", dir]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("invalid-calibration-data");
    expect(r.err).toContain(message);
    expect(r.err).not.toContain("unexpected error");
  });
});
