import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Runs the first ```ts block of a package's README.md as written (from a scratch folder inside the
 * package, so the package resolves itself) and returns its stdout. Keeps README examples honest.
 */
export function runReadmeExample(packageDir: string, env: Record<string, string> = {}): string {
  const code = /```ts\n([\s\S]*?)```/.exec(readFileSync(join(packageDir, "README.md"), "utf8"))?.[1];
  if (code === undefined) throw new Error(`${packageDir}/README.md has no ts example`);
  const dir = mkdtempSync(join(packageDir, ".readme-example-"));
  try {
    const file = join(dir, "example.ts");
    writeFileSync(file, code);
    return execFileSync(process.execPath, ["--conditions=@zeropoint/source", "--import", "tsx", file], {
      cwd: packageDir,
      encoding: "utf8",
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "ignore"],
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
