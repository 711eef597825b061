import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Records what a support-matrix cell's verifying test measured (e.g. "accuracy 0.9746 (float
 * 0.9746)" or "loads and runs in tfjs 4.22 (wasm)"), in `.test-results/evidence/` of the package
 * under test. Call it after the test's assertions passed; `zeropoint matrix` shows it in the cell.
 * `part` separates the instances of an each-test (e.g. the model name); the matrix joins them.
 */
export function recordEvidence(capabilityId: string, measured: string, part = ""): void {
  const dir = join(process.cwd(), ".test-results", "evidence");
  mkdirSync(dir, { recursive: true });
  const file = `${capabilityId}${part === "" ? "" : `@${part}`}`.replace(/[^A-Za-z0-9._@-]+/g, "__");
  writeFileSync(join(dir, `${file}.json`), `${JSON.stringify({ id: capabilityId, part, measured }, null, 2)}\n`);
}
