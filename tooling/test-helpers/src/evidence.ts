import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Records what a support-matrix cell's verifying test measured (e.g. "accuracy 0.9746 (float
 * 0.9746)" or "loads and runs in tfjs 4.22 (wasm)"), in `.test-results/evidence/` of the package
 * under test. Call it after the test's assertions passed; `zeropoint matrix` shows it in the cell.
 */
export function recordEvidence(capabilityId: string, measured: string): void {
  const dir = join(process.cwd(), ".test-results", "evidence");
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, `${capabilityId.replace(/[^A-Za-z0-9._-]+/g, "__")}.json`),
    `${JSON.stringify({ id: capabilityId, measured }, null, 2)}\n`,
  );
}
