import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Capability } from "@zeropoint/core";
import { REPO_ROOT, titleInSource } from "@zeropoint/test-helpers";
import { describe, expect, it } from "vitest";
import { installedCapabilities, runMatrix } from "../commands/matrix/run-matrix.js";
import { evidenceFor, type TestRun } from "./evidence.js";

const capability: Capability = {
  id: "demo/static/x",
  framework: "demo",
  approach: "static",
  format: "X",
  opTypes: ["Conv"],
  schemes: ["int8"],
  verifiedBy: { test: "packages/demo/src/a.test.ts > suite %s > works", metric: "accuracy within 1 point" },
};

function run(results: { titles: string[]; status: string }[], measured = new Map<string, string>()): TestRun {
  return {
    packageDir: "packages/demo",
    commit: "0123456789abcdef",
    taskHash: "feedface",
    measured,
    runId: "run-1",
    current: true,
    report: {
      testResults: [
        {
          name: "/somewhere/repo/packages/demo/src/a.test.ts",
          assertionResults: results.map((r) => ({
            ancestorTitles: r.titles.slice(0, -1),
            title: r.titles.at(-1) as string,
            status: r.status,
          })),
        },
      ],
    },
  };
}

describe("support-matrix evidence from the last test run", () => {
  it("a cell is verified when every instance of its named test passed, with commit, task hash and measurement", () => {
    const e = evidenceFor(capability, [
      run(
        [
          { titles: ["suite cnn", "works"], status: "passed" },
          { titles: ["suite mlp", "works"], status: "passed" },
        ],
        new Map([["demo/static/x", "accuracy 0.97 (float 0.97)"]]),
      ),
    ]);
    expect(e).toEqual({
      id: "demo/static/x",
      status: "passed",
      metric: "accuracy 0.97 (float 0.97)",
      commit: "0123456789abcdef",
      taskHash: "feedface",
    });
  });

  it("removing the verifying test turns the cell unverified", () => {
    const e = evidenceFor(capability, [run([{ titles: ["suite cnn", "something else"], status: "passed" }])]);
    expect(e?.status).toBe("failed");
    expect(e?.metric).toBe("verifying test not found in the last run");
  });

  it("with an example, the cell also needs the example's run to have passed", () => {
    const withExample = { ...capability, example: "apps/examples/src/demo-x.ts" };
    const passing = run([{ titles: ["suite cnn", "works"], status: "passed" }]);
    const examples = (status: string): TestRun => ({
      ...passing,
      packageDir: "apps/examples",
      report: {
        testResults: [
          {
            name: "/r/apps/examples/src/examples.test.ts",
            assertionResults: [{ ancestorTitles: ["examples"], title: "demo-x.ts runs and prints", status }],
          },
        ],
      },
    });
    expect(evidenceFor(withExample, [passing])?.metric).toBe(
      "example apps/examples/src/demo-x.ts: no run of the examples",
    );
    expect(evidenceFor(withExample, [passing, examples("failed")])?.status).toBe("failed");
    expect(evidenceFor(withExample, [passing, examples("passed")])?.status).toBe("passed");
  });

  it("one failed instance, or no test results at all, is not verified", () => {
    const failed = evidenceFor(capability, [
      run([
        { titles: ["suite cnn", "works"], status: "passed" },
        { titles: ["suite mlp", "works"], status: "failed" },
      ]),
    ]);
    expect(failed?.status).toBe("failed");
    expect(evidenceFor(capability, [])).toBeUndefined();
  });
});

describe("evidence bound to the sources it was recorded on", () => {
  it("a run on other sources makes the cell stale, never verified", () => {
    const e = evidenceFor(capability, [
      { ...run([{ titles: ["suite cnn", "works"], status: "passed" }]), current: false },
    ]);
    expect(e?.status).toBe("stale");
    expect(e?.metric).toMatch(/run run-1 was recorded on other sources/);
  });

  it("reproduction: results recorded, a breaking change committed, an unrelated test run — the cell shows stale", async () => {
    // A throwaway repository with one package whose test run recorded evidence.
    const { mkdtempSync, mkdirSync, writeFileSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { execFileSync } = await import("node:child_process");
    const { sourceDigest } = await import("./source-digest.js");
    const { readTestRuns } = await import("./evidence.js");
    const repo = mkdtempSync(join(tmpdir(), "zeropoint-stale-"));
    try {
      const git = (...args: string[]) => execFileSync("git", args, { cwd: repo, stdio: "ignore" });
      mkdirSync(join(repo, "packages/demo/src"), { recursive: true });
      mkdirSync(join(repo, "packages/other/src"), { recursive: true });
      writeFileSync(join(repo, "pnpm-workspace.yaml"), "packages: ['packages/*']\n");
      writeFileSync(join(repo, ".gitignore"), ".test-results/\n");
      writeFileSync(join(repo, "packages/demo/package.json"), '{"name":"demo"}');
      writeFileSync(join(repo, "packages/other/package.json"), '{"name":"other"}');
      writeFileSync(join(repo, "packages/demo/src/requantize.ts"), "export const x = 1;\n");
      writeFileSync(join(repo, "packages/other/src/a.test.ts"), "// unrelated\n");
      git("init", "-q");
      git("add", ".");
      git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "init");
      const record = (pkg: string) => {
        mkdirSync(join(repo, pkg, ".test-results"), { recursive: true });
        const evidence = {
          runId: `run-${pkg}`,
          sourceDigest: sourceDigest(repo, pkg),
          testResults: [
            {
              name: `${repo}/packages/demo/src/a.test.ts`,
              assertionResults: [{ ancestorTitles: ["suite cnn"], title: "works", status: "passed" }],
            },
          ],
          measured: [],
        };
        writeFileSync(join(repo, pkg, ".test-results/evidence.json"), JSON.stringify(evidence));
      };
      record("packages/demo");
      expect(evidenceFor(capability, readTestRuns(repo))?.status).toBe("passed");
      // A change that breaks the package is committed; an unrelated package's tests run again.
      writeFileSync(join(repo, "packages/demo/src/requantize.ts"), "export const x = 2; // broken\n");
      git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qam", "break requantization");
      record("packages/other");
      const e = evidenceFor(capability, readTestRuns(repo));
      expect(e?.status).toBe("stale");
      // Rerunning the package's own tests on the new sources makes its evidence current again.
      record("packages/demo");
      expect(evidenceFor(capability, readTestRuns(repo))?.status).toBe("passed");
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });
});

describe("zeropoint matrix", () => {
  it("every registered capability of every installed adapter names a test that exists", async () => {
    const { capabilities, missing } = await installedCapabilities();
    expect(missing).toEqual([]);
    expect(new Set(capabilities.map((c) => c.framework))).toEqual(new Set(["onnx", "tfjs", "torch"]));
    for (const c of capabilities) {
      const [file, ...titles] = c.verifiedBy.test.split(" > ");
      const source = readFileSync(resolve(REPO_ROOT, file as string), "utf8");
      for (const title of titles) expect(titleInSource(source, title), `${c.id}: "${title}" in ${file}`).toBe(true);
    }
  });

  it("every capability names an example that exists and that the examples test runs", async () => {
    const { capabilities } = await installedCapabilities();
    const examplesTest = readFileSync(resolve(REPO_ROOT, "apps/examples/src/examples.test.ts"), "utf8");
    for (const c of capabilities) {
      expect(c.example, c.id).toMatch(/^apps\/examples\/src\/[a-z0-9-]+\.ts$/);
      readFileSync(resolve(REPO_ROOT, c.example as string), "utf8");
      expect(examplesTest, c.id).toContain(`"${(c.example as string).split("/").at(-1)}"`);
    }
  });

  it("--format md prints the matrix in the classic shape, one row per capability", async () => {
    const lines: string[] = [];
    const rows = await runMatrix("md", "/nonexistent-results-root", (l) => lines.push(l));
    const text = lines.join("\n");
    expect(text).toMatch(
      /^\| approach \| data needed \| framework \| backend \/ format \| ops \| status \| evidence \|$/m,
    );
    for (const r of rows) expect(text).toContain(`| ${r.approach} | ${r.dataRequirement} | ${r.framework} |`);
    // Without any test results nothing may claim to be verified.
    expect(rows.every((r) => !r.verified)).toBe(true);
    expect(text).toContain("every cell is unverified");
  });
});
