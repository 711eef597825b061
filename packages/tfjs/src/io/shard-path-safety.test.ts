import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { readModelArtifacts } from "./file-system-io.js";

const bundled = fileURLToPath(new URL("../../test-fixtures/mnist-cnn", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "zeropoint-tfjs-paths-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A copy of the bundled model whose manifest's first shard path is replaced. */
function withShardPath(name: string, shard: string): { dir: string; json: string } {
  const dir = join(work, name);
  cpSync(bundled, dir, { recursive: true });
  const json = join(dir, "model.json");
  const manifest = JSON.parse(readFileSync(json, "utf8"));
  manifest.weightsManifest[0].paths[0] = shard;
  writeFileSync(json, JSON.stringify(manifest));
  return { dir, json };
}

describe("weight shards stay inside the model directory", () => {
  it("a ../ traversal in weightsManifest is an unsafe-path error naming the shard", () => {
    const outside = join(work, "secret.bin");
    const original = JSON.parse(readFileSync(join(bundled, "model.json"), "utf8")).weightsManifest[0].paths[0];
    cpSync(join(bundled, original), outside);
    const { json } = withShardPath("traversal", "../secret.bin");
    expect(() => readModelArtifacts(json)).toThrow(
      expect.objectContaining({ code: "unsafe-path", message: expect.stringContaining("../secret.bin") }),
    );
    // Allowed explicitly, the same file loads.
    expect(readModelArtifacts(json, { allowDirs: [work] }).weightSpecs?.length).toBeGreaterThan(0);
  });

  it("a shard that is a symlink out of the directory, or a directory, is refused with a typed error", () => {
    const linked = withShardPath("symlink", "linked.bin");
    symlinkSync("/etc/passwd", join(linked.dir, "linked.bin"));
    expect(() => readModelArtifacts(linked.json)).toThrow(expect.objectContaining({ code: "unsafe-path" }));
    const directory = withShardPath("directory", "shards");
    mkdirSync(join(directory.dir, "shards"));
    expect(() => readModelArtifacts(directory.json)).toThrow(
      expect.objectContaining({ code: "invalid-model", message: expect.stringContaining("not a regular file") }),
    );
    const absolute = withShardPath("absolute", "/etc/passwd");
    expect(() => readModelArtifacts(absolute.json)).toThrow(expect.objectContaining({ code: "io-error" }));
  });
});
