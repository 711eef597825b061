import { type Observer, observerFromJSON } from "@zeropoint/core";
import { describe, expect, it } from "vitest";
import { mnistCalibration, sharedModelBytes } from "../../test-fixtures/mnist-eval.js";
import { loadModel } from "../model/model-io.js";
import { calibrate } from "./calibrate.js";

const model = loadModel(sharedModelBytes("cnn")).model;
const tensors = ["/c1/Conv_output_0", "/r2/Relu_output_0", "/l1/Gemm_output_0"];
const batches = mnistCalibration(256);
const [first, second] = [batches.slice(0, 4), batches.slice(4)];

function viaJson(observers: Map<string, Observer>): Map<string, Observer> {
  return new Map([...observers].map(([k, o]) => [k, observerFromJSON(JSON.stringify(o.toJSON()))]));
}

describe("calibration state across processes", () => {
  for (const method of ["minmax", "histogram"] as const) {
    it(`${method}: save after half the data, resume from JSON, same ranges as one run`, async () => {
      const whole = await calibrate(model, tensors, () => batches, { method });
      const half = await calibrate(model, tensors, () => first, { method });
      const resumed = await calibrate(model, tensors, () => second, { method, resume: viaJson(half.observers) });
      for (const t of tensors) expect(resumed.observers.get(t)?.range()).toEqual(whole.observers.get(t)?.range());
    });
  }

  it("minmax shards calibrated separately merge to exactly the one-run ranges", async () => {
    const whole = await calibrate(model, tensors, () => batches, { method: "minmax" });
    const a = await calibrate(model, tensors, () => first, { method: "minmax" });
    const b = await calibrate(model, tensors, () => second, { method: "minmax" });
    const merged = viaJson(a.observers);
    for (const [t, o] of viaJson(b.observers)) merged.get(t)?.merge(o);
    for (const t of tensors) expect(merged.get(t)?.qparams()).toEqual(whole.observers.get(t)?.qparams());
  });

  it("two-pass calibrators read the data twice and report progress per pass", async () => {
    const progress: number[] = [];
    const result = await calibrate(model, tensors, () => batches, {
      method: "entropy",
      observer: { bins: 2048 },
      onProgress: (p) => progress.push(p.pass),
    });
    expect(result.samples).toBe(256);
    expect(progress.filter((p) => p === 0).length).toBe(8);
    expect(progress.filter((p) => p === 1).length).toBe(8);
    for (const t of tensors) expect(result.observers.get(t)?.pass).toBe(1);
  });
});
