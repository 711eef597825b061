import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const changesetBin = join(root, "tooling/scripts/node_modules/@changesets/cli/bin.js");
const work = mkdtempSync(join(tmpdir(), "zeropoint-changeset-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function writeJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * A `changeset version` dry run in a scratch copy: the repository's real .changeset/config.json, a
 * core package and an adapter that peer-depends on core the way every adapter here does. A core minor
 * must bump core's minor and leave the adapter's version alone (no forced major).
 */
describe("release configuration", () => {
  it("a core minor does not force an adapter major", () => {
    cpSync(join(root, ".changeset/config.json"), join(work, ".changeset/config.json"));
    writeJson(join(work, "package.json"), { name: "scratch", private: true, workspaces: ["packages/*"] });
    writeJson(join(work, "packages/core/package.json"), { name: "@zeropoint/core", version: "0.1.0" });
    const peerRange = JSON.parse(readFileSync(join(root, "tooling/scripts/adapter-peer-range.json"), "utf8"))
      .core as string;
    writeJson(join(work, "packages/onnx/package.json"), {
      name: "@zeropoint/onnx",
      version: "0.1.0",
      peerDependencies: { "@zeropoint/core": peerRange },
      devDependencies: { "@zeropoint/core": "0.1.0" },
    });
    writeFileSync(join(work, ".changeset/core-minor.md"), '---\n"@zeropoint/core": minor\n---\n\nA new observer.\n');
    const git = (...args: string[]) => execFileSync("git", args, { cwd: work, stdio: "pipe" });
    git("init", "-q", "-b", "main");
    git("-c", "user.email=ci@example.invalid", "-c", "user.name=ci", "add", "-A");
    git("-c", "user.email=ci@example.invalid", "-c", "user.name=ci", "commit", "-qm", "scratch");
    execFileSync(process.execPath, [changesetBin, "version"], { cwd: work, stdio: "pipe" });
    const core = JSON.parse(readFileSync(join(work, "packages/core/package.json"), "utf8"));
    const onnx = JSON.parse(readFileSync(join(work, "packages/onnx/package.json"), "utf8"));
    expect(core.version).toBe("0.2.0");
    expect(onnx.version).not.toMatch(/^1\./);
    expect(onnx.version).toBe("0.1.0");
    expect(onnx.peerDependencies["@zeropoint/core"]).toBe(peerRange);
  });

  it("every pending changeset has valid front matter (a markdown formatter once turned it into a heading)", () => {
    const dir = join(root, ".changeset");
    const files = readdirSync(dir).filter((f) => f.endsWith(".md") && f !== "README.md");
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const text = readFileSync(join(dir, f), "utf8");
      expect(text, f).toMatch(/^---\n("@?[\w/-]+": (major|minor|patch)\n)+---\n\n\S/);
    }
  });
});
