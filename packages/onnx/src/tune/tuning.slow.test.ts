import { additiveLatencyModel, parseCriterion, tune } from "@zeropoint/core";
import { describe, expect, it } from "vitest";
import { mnistCalibration, mnistTestHalf, recordedProfile, sharedModelBytes } from "../../test-fixtures/mnist-eval.js";
import { loadModel } from "../model/model-io.js";
import { createOnnxTuningAdapter } from "./onnx-tuning.js";

async function tuneModel(name: string, maxLoss: string) {
  const { model } = loadModel(sharedModelBytes(name));
  const adapter = await createOnnxTuningAdapter(model, {
    calibrationData: () => mnistCalibration(),
    evaluation: mnistTestHalf("even"),
  });
  const result = await tune(adapter, {
    criterion: parseCriterion(maxLoss),
    latency: additiveLatencyModel(recordedProfile(name)),
  });
  return { adapter, result, nodes: await adapter.nodes() };
}

// Acceptance (issue 7): tuned on the even test half with --max-loss 0.5%, each tuned model meets the
// criterion there; the plan keeps at least one node int8 and is smaller than float. Latency decisions
// come from the recorded profiles (test-fixtures/profiles, measured with scripts/record-latency-profiles.ts),
// so the plan is repeatable; speed itself is measured by `pnpm bench`.
describe("tuning the shared models (recorded latency profiles)", () => {
  it("cnn: int8 Gemms, float convolutions (the convolutions are slower in int8 here)", async () => {
    const { result } = await tuneModel("cnn", "0.5%");
    expect(result.status).toBe("met");
    expect(result.best?.metric).toBeGreaterThanOrEqual(result.threshold);
    expect(result.best?.int8Nodes).toEqual(["/l1/Gemm", "/l2/Gemm"]);
    // No live measure here: the verification reads the profile, and says so (recorded, not measured).
    expect(result.best?.measuredMs).toBeUndefined();
    expect(result.best?.recordedMs).toBeLessThan(result.floatRecordedMs as number);
    // All-int8 would have met the criterion too: the tuner chose speed, not the first passing plan.
    expect(result.trials[0]?.label).toBe("all int8");
    expect(result.trials[0]?.passed).toBe(true);
  });

  it("mlp: the int8 Gemms that are faster, and the sensitivity report covers every node", async () => {
    const { result, nodes } = await tuneModel("mlp", "0.5%");
    expect(result.status).toBe("met");
    expect(result.best?.int8Nodes).toContain("/net/net.1/Gemm");
    expect(result.best?.sizeBytes).toBeLessThan(result.float.sizeBytes);
    expect(result.sensitivity.map((s) => s.name).sort()).toEqual(nodes.map((n) => n.name).sort());
    for (const s of result.sensitivity) expect(Number.isFinite(s.sqnr ?? Number.NaN)).toBe(true);
    const impacts = result.sensitivity.map((s) => s.impact);
    expect(impacts).toEqual([...impacts].sort((a, b) => b - a));
  });

  it("transformer: meets 0.5% with a plan measured faster than float", async () => {
    const { result } = await tuneModel("transformer", "0.5%");
    expect(result.status).toBe("met");
    expect(result.best?.metric).toBeGreaterThanOrEqual(result.threshold);
    expect(result.best?.int8Nodes.length).toBeGreaterThan(0);
    expect(result.slowerThanFloat).toBe(false);
  });

  it("transformer: 0.05% is too strict for all-int8; the tuner falls back named nodes and meets it", async () => {
    const { result, nodes } = await tuneModel("transformer", "0.05%");
    const allInt8 = result.trials.find((t) => t.label === "all int8");
    expect(allInt8?.passed).toBe(false);
    expect(result.status).toBe("met");
    const floatNodes = nodes.filter((n) => !result.best?.int8Nodes.includes(n.name)).map((n) => n.name);
    expect(floatNodes.length).toBeGreaterThan(0);
    expect(result.message).toMatch(/met 0.05% relative loss/);
  });
});
