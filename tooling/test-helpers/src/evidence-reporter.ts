import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { REPO_ROOT } from "./index.js";

/**
 * A vitest reporter that writes the one evidence file `zeropoint matrix` trusts:
 * `.test-results/evidence.json` in the package under test, holding the digest of the sources the
 * run started on, a run id, every test's result, and what tests recorded with `recordEvidence`
 * during this run. Because results, measurements and the digest are written together by the run
 * that produced them, an older report cannot be paired with newer sources: the matrix shows a cell
 * whose digest differs from the working tree as stale.
 */
/** The parts of vitest's reporter API (TestModule, TestCase) this reads. */
interface TestParent {
  readonly type: string;
  readonly name: string;
  readonly parent: TestParent;
}
interface TestCaseLike {
  readonly name: string;
  readonly parent: TestParent;
  result(): { state: string };
}
interface TestModuleLike {
  readonly moduleId: string;
  readonly children: { allTests(): Iterable<TestCaseLike> };
}

export default class EvidenceReporter {
  private digest = "";
  private readonly runId = randomUUID();
  private readonly startedAt = new Date().toISOString();

  async onTestRunStart(): Promise<void> {
    // The one implementation of the digest lives with its reader, `zeropoint matrix` (the CLI
    // never imports test tooling); loaded by path so this package's build does not include it.
    const module = (await import(pathToFileURL(join(REPO_ROOT, "apps/cli/src/matrix/source-digest.ts")).href)) as {
      sourceDigest(repoRoot: string, packageDir: string): string;
    };
    this.digest = module.sourceDigest(REPO_ROOT, relative(REPO_ROOT, process.cwd()));
  }

  onTestRunEnd(modules: ReadonlyArray<TestModuleLike>): void {
    const testResults = modules.map((m) => ({
      name: m.moduleId,
      assertionResults: [...m.children.allTests()].map((t) => {
        const ancestors: string[] = [];
        for (let p = t.parent; p.type === "suite"; p = p.parent) ancestors.unshift(p.name);
        return { ancestorTitles: ancestors, title: t.name, status: t.result().state };
      }),
    }));
    const dir = join(process.cwd(), ".test-results");
    const measured: { id: string; part?: string; measured: string }[] = [];
    const evidenceDir = join(dir, "evidence");
    if (existsSync(evidenceDir)) {
      for (const f of readdirSync(evidenceDir).sort()) {
        try {
          measured.push(JSON.parse(readFileSync(join(evidenceDir, f), "utf8")));
        } catch {
          // A broken measurement file is no measurement.
        }
      }
    }
    mkdirSync(dir, { recursive: true });
    const file = join(dir, "evidence.json");
    const body = {
      runId: this.runId,
      sourceDigest: this.digest,
      startedAt: this.startedAt,
      finishedAt: new Date().toISOString(),
      testResults,
      measured,
    };
    writeFileSync(`${file}.tmp`, `${JSON.stringify(body, null, 2)}\n`);
    renameSync(`${file}.tmp`, file);
  }
}
