import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Capability, CapabilityEvidence } from "@zeropoint/core";
import { sourceDigest } from "./source-digest.js";

/** The parts of vitest's JSON report this reads. */
interface VitestReport {
  testResults: { name: string; assertionResults: { ancestorTitles: string[]; title: string; status: string }[] }[];
}

/** One package's last test run: its results, meta and recorded measurements, bound to its sources. */
export interface TestRun {
  readonly packageDir: string;
  readonly report: VitestReport;
  readonly commit: string | null;
  readonly taskHash: string | null;
  readonly measured: ReadonlyMap<string, string>;
  readonly runId: string | null;
  /** Whether the sources the run started on are the working tree's (see source-digest). */
  readonly current: boolean;
}

/** Reads `<repo>/{packages,apps}/<pkg>/.test-results/` of every package that has one. */
export function readTestRuns(repoRoot: string): TestRun[] {
  const runs: TestRun[] = [];
  for (const group of ["packages", "apps"]) {
    const base = join(repoRoot, group);
    if (!existsSync(base)) continue;
    for (const pkg of readdirSync(base)) {
      const dir = join(base, pkg, ".test-results");
      // The evidence file the run's reporter wrote: results, measurements and source digest
      // together (tooling/test-helpers/src/evidence-reporter.ts). vitest.json alone is not
      // evidence: nothing ties it to the sources it ran on.
      const evidenceFile = join(dir, "evidence.json");
      if (!existsSync(evidenceFile)) continue;
      let evidence: VitestReport & {
        runId?: string;
        sourceDigest?: string;
        measured?: { id: string; part?: string; measured: string }[];
      };
      try {
        evidence = JSON.parse(readFileSync(evidenceFile, "utf8"));
      } catch {
        continue;
      }
      const report: VitestReport = { testResults: evidence.testResults ?? [] };
      let meta: { commit?: string | null; taskHash?: string | null } = {};
      try {
        meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8"));
      } catch {
        meta = {};
      }
      const measured = new Map<string, string>();
      for (const e of evidence.measured ?? []) {
        const text = e.part ? `${e.part}: ${e.measured}` : e.measured;
        const before = measured.get(e.id);
        measured.set(e.id, before === undefined ? text : [before, text].sort().join("; "));
      }
      let current = false;
      try {
        current = evidence.sourceDigest === sourceDigest(repoRoot, `${group}/${pkg}`);
      } catch {
        current = false; // not a git checkout: nothing can be shown current
      }
      runs.push({
        packageDir: `${group}/${pkg}`,
        report,
        commit: meta.commit ?? null,
        taskHash: meta.taskHash ?? null,
        measured,
        runId: evidence.runId ?? null,
        current,
      });
    }
  }
  return runs;
}

function pattern(title: string): RegExp {
  // vitest's each-templates (%s, %i, %d, ...) stand for any one value.
  const escaped = title.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/%[sidfjo#%]/g, ".+?");
  return new RegExp(`^${escaped}$`);
}

/**
 * The evidence for one capability: every test in the last run matching its named test (file >
 * suites > title, each-templates as wildcards) must have passed, and at least one must exist.
 * A missing report, a missing test or a failure gives no `passed` evidence.
 */
export function evidenceFor(capability: Capability, runs: readonly TestRun[]): CapabilityEvidence | undefined {
  const [file, ...titles] = capability.verifiedBy.test.split(" > ");
  if (file === undefined || titles.length === 0) return undefined;
  const patterns = titles.map(pattern);
  for (const run of runs) {
    if (!file.startsWith(`${run.packageDir}/`)) continue;
    const matches: string[] = [];
    for (const t of run.report.testResults) {
      if (!t.name.replace(/\\/g, "/").endsWith(`/${file}`)) continue;
      for (const a of t.assertionResults) {
        const path = [...a.ancestorTitles, a.title];
        if (path.length === patterns.length && path.every((p, i) => (patterns[i] as RegExp).test(p)))
          matches.push(a.status);
      }
    }
    if (!run.current)
      return {
        id: capability.id,
        status: "stale",
        metric: `evidence of run ${run.runId ?? "?"} was recorded on other sources than the working tree's; rerun pnpm test`,
      };
    if (matches.length === 0)
      return { id: capability.id, status: "failed", metric: "verifying test not found in the last run" };
    const example = capability.example === undefined ? "passed" : exampleStatus(capability.example, runs);
    if (example !== "passed")
      return { id: capability.id, status: "failed", metric: `example ${capability.example}: ${example}` };
    const passed = matches.every((s) => s === "passed");
    const measured = run.measured.get(capability.id);
    return {
      id: capability.id,
      status: passed ? "passed" : "failed",
      metric: passed
        ? (measured ?? capability.verifiedBy.metric)
        : `${matches.filter((s) => s !== "passed").length} of ${matches.length} runs not passed`,
      ...(run.commit !== null ? { commit: run.commit } : {}),
      ...(run.taskHash !== null ? { taskHash: run.taskHash } : {}),
    };
  }
  return undefined;
}

/** The status of an example's run in apps/examples' last test run ("<file> runs and ..."). */
function exampleStatus(example: string, runs: readonly TestRun[]): string {
  const run = runs.find((r) => r.packageDir === "apps/examples");
  if (run === undefined) return "no run of the examples";
  if (!run.current) return "its run was on other sources than the working tree's (stale)";
  const file = example.split("/").at(-1) as string;
  const statuses = run.report.testResults.flatMap((t) =>
    t.assertionResults.filter((a) => a.title.startsWith(`${file} runs`)).map((a) => a.status),
  );
  if (statuses.length === 0) return "not run";
  return statuses.every((s) => s === "passed") ? "passed" : "failed";
}
