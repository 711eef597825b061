import { describe, expect, it } from "vitest";
import { bigGraph, bigGraphBatches } from "../../test-fixtures/big-graphs.js";
import { mnistCalibration, sharedModelBytes } from "../../test-fixtures/mnist-eval.js";
import { loadModel } from "../model/model-io.js";
import { calibrate, discoverTensorTypes } from "./calibrate.js";

describe("segmented calibration gives the single-session ranges", () => {
  it.each([
    ["a 1,000-node residual graph", () => bigGraph(1_000, "residual"), () => bigGraphBatches],
    ["the shared transformer", () => loadModel(sharedModelBytes("transformer")).model, () => mnistCalibration(64)],
  ])("%s, cut into segments, observes every tensor exactly as one session does", async (_label, make, data) => {
    const model = make();
    // The float tensors, as the planner asks for them; their types too must agree between the paths.
    const types = await discoverTensorTypes(model);
    const tensors = [...types].filter(([, t]) => t === "float32").map(([name]) => name);
    expect(tensors.length).toBeGreaterThan(10);
    const whole = await calibrate(model, tensors, data, {
      method: "minmax",
      segmentThreshold: Number.POSITIVE_INFINITY,
    });
    const cut = await calibrate(model, tensors, data, { method: "minmax", segmentThreshold: 0, segmentNodes: 7 });
    expect(cut.samples).toBe(whole.samples);
    for (const t of tensors) {
      const a = whole.observers.get(t);
      const b = cut.observers.get(t);
      expect(b?.qparams(), t).toEqual(a?.qparams());
    }
  });
});
