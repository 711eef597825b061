import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { calibrationSourceFromBatches, evaluateIr, top1 } from "@zeropoint/core";
import { adapterConformance, conformanceBatches, conformanceGraph } from "@zeropoint/core/testing";
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

  it("offers core's tuner a TuningAdapter for a loaded model", async () => {
    const adapter = createOnnxAdapter();
    const graph = conformanceGraph();
    const model = await adapter.fromIr(graph);
    const evaluation = conformanceBatches(2, 16, 5);
    // Labels = the float model's own top-1, so the float metric is exactly 1.
    const labels = Uint8Array.from(
      evaluation.flatMap((b) => {
        const x = b.input as { data: Float32Array; dims: number[] };
        return Array.from(top1(evaluateIr(graph, { input: { data: x.data, shape: x.dims } }).get("logits")!.data, 16));
      }),
    );
    const tuning = await adapter.tuning?.(model, {
      calibration: calibrationSourceFromBatches(conformanceBatches(4, 8, 7)),
      evaluation: { batches: evaluation, labels },
    });
    expect(tuning?.specificationVersion).toBe("v1");
    const nodes = (await tuning?.nodes())?.map((n) => n.name) ?? [];
    expect(nodes).toEqual(expect.arrayContaining(["conv", "fc"]));
    expect(await tuning?.floatMetric()).toBe(1);
    const all = await tuning?.evaluate(nodes);
    // int8 on this graph moves top-1 on at most a few of the 32 rows.
    expect(all?.metric).toBeGreaterThanOrEqual(0.85);
  });
});
