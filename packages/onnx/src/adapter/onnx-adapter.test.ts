import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { adapterConformance } from "@zeropoint/core/testing";
import { afterAll, describe, expect, it } from "vitest";
import { createOnnxAdapter } from "./onnx-adapter.js";

const work = mkdtempSync(join(tmpdir(), "zeropoint-onnx-conformance-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("onnx adapter", () => {
  it("passes core's adapter conformance suite", async () => {
    const results = await adapterConformance(createOnnxAdapter(), { saveDirectory: work, join });
    const failed = results.filter((r) => !r.passed);
    expect(failed, JSON.stringify(failed, null, 1)).toEqual([]);
    // Version + float + 3 variants × (runs, changed outputs, saved build reloads) + 2 static layer checks.
    expect(results.length).toBe(1 + 1 + 3 * 3 + 2);
  });
});
