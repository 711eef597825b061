import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * The directories whose sources a package's tests exercise: the package, the workspace packages
 * it depends on (transitively, through `workspace:` ranges), the test tooling and nothing else, so
 * a change elsewhere leaves its evidence current (as turbo's cache of the test task does).
 */
export function testedDirectories(repoRoot: string, packageDir: string): string[] {
  const byName = new Map<string, string>();
  for (const group of ["packages", "apps", "tooling"]) {
    const base = join(repoRoot, group);
    if (!existsSync(base)) continue;
    for (const d of readdirSync(base)) {
      const manifest = join(base, d, "package.json");
      if (!existsSync(manifest)) continue;
      try {
        byName.set((JSON.parse(readFileSync(manifest, "utf8")) as { name: string }).name, `${group}/${d}`);
      } catch {
        // An unreadable manifest names no package.
      }
    }
  }
  const seen = new Set<string>();
  const visit = (dir: string) => {
    if (seen.has(dir)) return;
    seen.add(dir);
    let manifest: Record<string, Record<string, string> | undefined> = {};
    try {
      manifest = JSON.parse(readFileSync(join(repoRoot, dir, "package.json"), "utf8"));
    } catch {
      return;
    }
    for (const field of ["dependencies", "devDependencies", "peerDependencies", "optionalDependencies"]) {
      for (const [name, range] of Object.entries(manifest[field] ?? {})) {
        const target = byName.get(name);
        if (target !== undefined && String(range).startsWith("workspace:")) visit(target);
      }
    }
  };
  visit(packageDir);
  return [...new Set([...seen, "tooling"])].sort();
}

/**
 * A digest of the sources a package's test run exercises ({@link testedDirectories}, plus the root
 * manifests and lockfile): every file git tracks or would track (untracked, not ignored), by path
 * and content, test outputs excluded. The test reporter (tooling/test-helpers) writes it when a
 * run starts; `zeropoint matrix` recomputes it and shows a cell whose evidence was recorded on
 * other sources as stale.
 */
export function sourceDigest(repoRoot: string, packageDir: string): string {
  const listed = execFileSync(
    "git",
    [
      "ls-files",
      "-z",
      "--cached",
      "--others",
      "--exclude-standard",
      "--",
      ...testedDirectories(repoRoot, packageDir),
      "package.json",
      "pnpm-lock.yaml",
      "pnpm-workspace.yaml",
    ],
    { cwd: repoRoot, encoding: "utf8", maxBuffer: 64 << 20 },
  );
  const files = [...new Set(listed.split("\0").filter((f) => f !== "" && !f.includes(".test-results/")))].sort();
  const hash = createHash("sha256");
  for (const f of files) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(join(repoRoot, f));
    } catch {
      continue; // deleted in the working tree but still in the index
    }
    hash.update(f).update("\0").update(String(bytes.length)).update("\0").update(bytes);
  }
  return hash.digest("hex");
}
