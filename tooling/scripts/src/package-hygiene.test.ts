import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const bin = (name: string) => join(root, "tooling/scripts/node_modules/.bin", name);
const packed = mkdtempSync(join(tmpdir(), "zeropoint-pack-"));
afterAll(() => rmSync(packed, { recursive: true, force: true }));

/** Every package that is released on its own (changesets, independent versions). */
const PUBLISHED = [
  { dir: "packages/core", library: true },
  { dir: "packages/onnx", library: true },
  { dir: "packages/tfjs", library: true },
  { dir: "packages/torch", library: true },
  { dir: "apps/cli", library: false },
];

function sh(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

describe("package hygiene for per-package releases", () => {
  for (const { dir, library } of PUBLISHED) {
    it(`${dir}: builds, passes publint${library ? " and attw --profile esm-only" : ""}, and has a README with an install line`, () => {
      const pkgDir = join(root, dir);
      const pkg = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
      expect(pkg.private).not.toBe(true);
      expect(pkg.type).toBe("module");
      const readme = readFileSync(join(pkgDir, "README.md"), "utf8");
      expect(readme).toMatch(new RegExp(`npm (i|install)( -g)? [^\\n]*${pkg.name.replace("/", "\\/")}`));
      expect(readme).toMatch(/```(ts|sh)\n/);
      sh(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-b", "tsconfig.build.json"], pkgDir);
      if (library) {
        expect(pkg.exports["."].types).toBe("./dist/index.d.ts");
        expect(pkg.exports["."].import).toBe("./dist/index.js");
      }
      const lint = sh(bin("publint"), ["--strict"], pkgDir);
      expect(lint).toMatch(/All good!/);
      if (library) {
        const dest = mkdtempSync(join(packed, "p-"));
        sh("pnpm", ["pack", "--pack-destination", dest], pkgDir);
        const tarball = join(dest, readdirSync(dest)[0] as string);
        // attw exits non-zero (and sh throws) on any problem the ESM-only profile does not ignore;
        // the profile ignores only CommonJS and node10 resolution, which an ESM-only package lacks.
        const out = sh(bin("attw"), ["--profile", "esm-only", "--format", "json", tarball], pkgDir);
        const report = JSON.parse(out) as { analysis?: { problems?: { resolutionKind?: string; kind: string }[] } };
        const counted = (report.analysis?.problems ?? []).filter(
          (p) => p.resolutionKind !== "node10" && p.resolutionKind !== "node16-cjs",
        );
        expect(counted).toEqual([]);
      }
    });
  }
});
