import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { adapterConformance } from "@zeropoint/core/testing";
import { afterAll, describe, expect, it } from "vitest";
import { createTfjsAdapter } from "./tfjs-adapter.js";

const work = mkdtempSync(join(tmpdir(), "zeropoint-tfjs-conformance-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("tfjs adapter", () => {
  it("passes core's adapter conformance suite", async () => {
    const results = await adapterConformance(await createTfjsAdapter(), { saveDirectory: work, join });
    const failed = results.filter((r) => !r.passed);
    expect(failed, JSON.stringify(failed, null, 1)).toEqual([]);
    // Version + float + 3 variants × (runs, changed outputs) + a layer check per static variant + 2 saved
    // (fake-quant and weight-only write model.json; the integer executor has no file format).
    expect(results.length).toBe(1 + 1 + 3 * 2 + 2 + 2);
  });
});
