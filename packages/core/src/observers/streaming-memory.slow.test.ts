import { execFileSync } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { OBSERVER_KINDS } from "./observer.js";

const fixture = resolve(dirname(fileURLToPath(import.meta.url)), "../../test-fixtures/observe-batches.ts");

function peakRss(kind: string, batches: number): number {
  const out = execFileSync(
    process.execPath,
    ["--conditions=@zeropoint/source", "--import", "tsx", fixture, kind, String(batches)],
    {
      encoding: "utf8",
      cwd: resolve(dirname(fixture), ".."),
    },
  );
  return Number(out);
}

// Streaming: an observer's memory must not grow with the number of batches. Each kind runs in a
// fresh process with 16 and with 256 batches of 2^20 values (4 MiB each; 1 GiB in all for 256), and
// the peak RSS may differ by less than 15% (the tolerance absorbs GC timing and JIT noise).
describe("streaming calibration memory", () => {
  for (const kind of OBSERVER_KINDS) {
    it(`${kind}: 16 vs 256 batches of 2^20 values differ by < 15% in peak RSS`, () => {
      const small = peakRss(kind, 16);
      const large = peakRss(kind, 256);
      expect(small).toBeGreaterThan(0);
      expect(Math.abs(large - small) / small).toBeLessThan(0.15);
    });
  }
});
