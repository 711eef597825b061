#!/usr/bin/env node
// Prints each package's test duration (from turbo's run summary) and one closing line
// "tests: N passed, M failed" (from each package's vitest JSON report).
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "../..");
const runs = join(root, ".turbo/runs");
if (existsSync(runs)) {
  const latest = readdirSync(runs)
    .filter((f) => f.endsWith(".json"))
    .map((f) => join(runs, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  if (latest !== undefined) {
    const summary = JSON.parse(readFileSync(latest, "utf8"));
    console.log("\nTest duration per package:");
    // The test task depends on ^typecheck (for its cache key); list the test tasks only.
    for (const task of (summary.tasks ?? []).filter((t) => t.task === "test")) {
      const ms = (task.execution?.endTime ?? 0) - (task.execution?.startTime ?? 0);
      console.log(
        `  ${task.package.padEnd(28)} ${(ms / 1000).toFixed(1).padStart(7)} s  (exit ${task.execution?.exitCode})`,
      );
    }
  }
}
let passed = 0;
let failed = 0;
for (const group of ["packages", "apps", "tooling"]) {
  const dir = join(root, group);
  if (!existsSync(dir)) continue;
  for (const pkg of readdirSync(dir)) {
    const report = join(dir, pkg, ".test-results/vitest.json");
    if (!existsSync(report)) continue;
    const r = JSON.parse(readFileSync(report, "utf8"));
    passed += r.numPassedTests ?? 0;
    failed += (r.numFailedTests ?? 0) + (r.numTodoTests ?? 0) * 0;
  }
}
console.log(`\ntests: ${passed} passed, ${failed} failed`);
