import { describe, expect, it } from "vitest";
import { bigGraph, bigGraphBatches } from "../../test-fixtures/big-graphs.js";
import { quantizeStatic } from "./quantize-static.js";

// Issue 15: every pass over the graph is linear, and calibration of a graph with 100,000 tensors
// runs in segments (onnxruntime's session creation is superlinear in graph outputs). Checked by node
// counts within a generous test timeout, not by a timer; `pnpm bench` measures the seconds.
describe("100,000-node graphs quantize", () => {
  it.each(["chain", "residual"] as const)(
    "a 100,000-node %s graph: every node quantized, the QDQ graph complete",
    async (kind) => {
      const { model, report } = await quantizeStatic(bigGraph(100_000, kind), {
        calibrationData: () => bigGraphBatches,
      });
      expect(report.quantizedNodes).toHaveLength(100_000);
      expect(report.floatNodes).toEqual([]);
      const ops = new Map<string, number>();
      for (const n of model.graph?.node ?? []) ops.set(n.opType ?? "", (ops.get(n.opType ?? "") ?? 0) + 1);
      expect((ops.get("Add") ?? 0) + (ops.get("Mul") ?? 0)).toBe(100_000);
      expect(ops.get("QuantizeLinear") ?? 0).toBeGreaterThanOrEqual(100_000);
      expect(ops.get("DequantizeLinear") ?? 0).toBeGreaterThanOrEqual(100_000);
    },
    300_000,
  );
});
