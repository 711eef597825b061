import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * vitest globalSetup: clears the previous run's recorded evidence, and after the run writes `.test-results/meta.json` in the package being tested
 * (the commit, the turbo task hash when run through turbo, and the time), next to the JSON
 * reporter's `vitest.json` and the evidence reporter's `evidence.json`. `zeropoint matrix` takes
 * only `evidence.json` as the evidence behind a cell, since it binds the results to the sources.
 */
export default function setup(): () => void {
  // Measurements recorded by this run only: a test that no longer records leaves nothing stale behind.
  rmSync(join(process.cwd(), ".test-results", "evidence"), { recursive: true, force: true });
  return () => {
    let commit: string | null = null;
    try {
      commit = execFileSync("git", ["rev-parse", "HEAD"], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      }).trim();
    } catch {
      commit = null;
    }
    const dir = join(process.cwd(), ".test-results");
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, "meta.json"),
      `${JSON.stringify({ commit, taskHash: process.env.TURBO_HASH ?? null, finishedAt: new Date().toISOString() }, null, 2)}\n`,
    );
  };
}
