import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { adapterConformance } from "@zeropoint/core/testing";
import { afterAll, describe, expect, it } from "vitest";
import { createTorchAdapter } from "./torch-adapter.js";

const work = mkdtempSync(join(tmpdir(), "zeropoint-torch-conformance-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("torch adapter", () => {
  it("passes core's adapter conformance suite", async () => {
    const results = await adapterConformance(createTorchAdapter(), { saveDirectory: work, join });
    const failed = results.filter((r) => !r.passed);
    expect(failed, JSON.stringify(failed, null, 1)).toEqual([]);
    // Version + float + 3 variants × (runs, changed outputs) + 2 static layer checks; torch builds have no file format.
    expect(results.length).toBe(1 + 1 + 3 * 2 + 2);
  });
});
