import { describe, expect, it } from "vitest";
import { parseCriterion } from "./criterion.js";
import { additiveLatencyModel } from "./latency-model.js";
import { type HistoryEntry, type TuningAdapter, tune } from "./tuner.js";

/** A synthetic model: metric drops per int8 node are additive; sizes shrink per int8 node. */
function adapter(drops: Record<string, number>, counter = { evaluations: 0 }): TuningAdapter {
  const names = Object.keys(drops);
  return {
    specificationVersion: "v1",
    nodes: async () => names.map((name) => ({ name, opType: name.startsWith("conv") ? "Conv" : "Gemm" })),
    floatMetric: async () => 0.9,
    floatSizeBytes: async () => 1000,
    evaluate: async (int8) => {
      counter.evaluations++;
      return { metric: 0.9 - int8.reduce((s, n) => s + (drops[n] as number), 0), sizeBytes: 1000 - 200 * int8.length };
    },
    nodeSqnr: async (int8) => Object.fromEntries(int8.map((n) => [n, 40 - 1000 * (drops[n] as number)])),
  };
}

const profile = (deltas: Record<string, number>) =>
  additiveLatencyModel({
    format: "zeropoint-latency-profile",
    version: 1,
    runtime: "test",
    model: "x",
    floatMs: 10,
    nodeDeltaMs: deltas,
  });

describe("tune", () => {
  it("finds the fastest passing plan, not the first one, and keeps slow nodes float", async () => {
    // conv nodes are slower in int8 (like the CNN here); gemm nodes faster.
    const result = await tune(adapter({ conv1: 0.001, conv2: 0.001, gemm1: 0.001, gemm2: 0.001 }), {
      criterion: parseCriterion("0.5%"),
      latency: profile({ conv1: 4, conv2: 6, gemm1: -0.5, gemm2: -0.2 }),
    });
    expect(result.status).toBe("met");
    expect(result.best?.int8Nodes).toEqual(["gemm1", "gemm2"]);
    expect(result.best?.latencyMs).toBeCloseTo(9.3, 10);
  });

  it("falls back the nodes that break a strict criterion and names them", async () => {
    const result = await tune(adapter({ a: 0.0001, b: 0.02, c: 0.0001, d: 0.0002 }), {
      criterion: parseCriterion("0.005abs"),
      latency: profile({ a: -1, b: -1, c: -1, d: -1 }),
    });
    expect(result.status).toBe("met");
    expect(result.best?.int8Nodes).toEqual(["a", "c", "d"]);
    expect(result.sensitivity[0]?.name).toBe("b");
  });

  it("ends with a clear message and the best plan when nothing meets the criterion", async () => {
    const result = await tune(adapter({ a: 0.1, b: 0.2 }), {
      criterion: parseCriterion("0.1%"),
      latency: profile({ a: -1, b: -1 }),
    });
    expect(result.status).toBe("not-met");
    expect(result.message).toMatch(/no plan with at least one int8 node met 0.1% relative loss/);
    expect(result.best?.int8Nodes).toEqual(["a"]);
  });

  it("is deterministic and resumes from history without re-evaluating finished trials", async () => {
    const drops = { conv1: 0.003, conv2: 0.001, gemm1: 0.002, gemm2: 0.0005 };
    const latency = profile({ conv1: 1, conv2: -2, gemm1: -0.5, gemm2: -0.2 });
    const criterion = parseCriterion("0.3%");
    const first = await tune(adapter(drops), { criterion, latency });
    const second = await tune(adapter(drops), { criterion, latency });
    expect(second.best).toEqual(first.best);
    const entries: HistoryEntry[] = [];
    const partialCounter = { evaluations: 0 };
    await tune(adapter(drops, partialCounter), {
      criterion,
      latency,
      maxTrials: 4,
      history: { load: () => [], append: (e) => entries.push(e) },
    });
    expect(entries.length).toBe(4);
    const counter = { evaluations: 0 };
    const resumed = await tune(adapter(drops, counter), {
      criterion,
      latency,
      history: { load: () => entries, append: (e) => entries.push(e) },
    });
    expect(resumed.best).toEqual({ ...first.best, reused: resumed.best?.reused });
    expect(resumed.trials.filter((t) => t.reused)).toHaveLength(4);
    expect(counter.evaluations).toBe(first.trials.length - 4);
  });

  it("the sensitivity strategy ranks nodes by measured impact", async () => {
    const result = await tune(adapter({ a: 0.004, b: 0.0001, c: 0.0002 }), {
      criterion: parseCriterion("0.2%"),
      latency: profile({ a: -1, b: -1, c: -1 }),
      strategy: "sensitivity",
    });
    expect(result.best?.int8Nodes).toEqual(["b", "c"]);
    expect(result.sensitivity.map((s) => s.name)).toEqual(["a", "c", "b"]);
    expect(result.sensitivity[0]?.metricAlone).toBeCloseTo(0.896, 10);
  });

  it("rejects bad criteria and empty models", async () => {
    expect(() => parseCriterion("half")).toThrow(expect.objectContaining({ code: "invalid-argument" }));
    await expect(tune(adapter({}), { criterion: parseCriterion("1%"), latency: profile({}) })).rejects.toMatchObject({
      code: "invalid-model",
    });
  });
});

describe("additiveLatencyModel", () => {
  it("is exact at both ends and spreads the interaction in proportion to |delta|", () => {
    const model = additiveLatencyModel({
      format: "zeropoint-latency-profile",
      version: 1,
      runtime: "test",
      model: "x",
      floatMs: 1,
      allInt8Ms: 1.5,
      nodeDeltaMs: { a: 2, b: 1, c: -0.1, d: 0 },
    });
    expect(model.estimate(new Set())).toBe(1);
    expect(model.estimate(new Set(["a", "b", "c", "d"]))).toBeCloseTo(1.5, 12);
    expect(model.delta("d")).toBe(0);
    // sum 2.9, interaction 0.5 - 2.9 = -2.4, |delta| total 3.1
    expect(model.delta("a")).toBeCloseTo(2 - (2.4 * 2) / 3.1, 12);
    expect(model.delta("c")).toBeCloseTo(-0.1 - (2.4 * 0.1) / 3.1, 12);
  });
});

describe("tune: recorded latencies are never reported as measured", () => {
  const recordedProfile = (planMs: Record<string, number>) =>
    additiveLatencyModel({
      format: "zeropoint-latency-profile",
      version: 1,
      runtime: "another machine",
      model: "x",
      floatMs: 10,
      nodeDeltaMs: { a: -1, b: -1 },
      planMs,
    });

  it("without a live measure, a recorded plan latency is recordedMs and the message says recorded", async () => {
    const result = await tune(adapter({ a: 0.0001, b: 0.0001 }), {
      criterion: parseCriterion("0.5%"),
      latency: recordedProfile({ "": 10, "a|b": 7 }),
    });
    expect(result.best?.recordedMs).toBe(7);
    expect(result.best?.measuredMs).toBeUndefined();
    expect(result.floatMeasuredMs).toBeUndefined();
    expect(result.message).toContain("recorded (not measured in this run)");
  });

  it("with a live measure, the live figure wins over the recorded one", async () => {
    const result = await tune(adapter({ a: 0.0001, b: 0.0001 }), {
      criterion: parseCriterion("0.5%"),
      latency: recordedProfile({ "": 10, "a|b": 7 }),
      measure: async (int8) => 20 - 2 * int8.length,
    });
    expect(result.best?.measuredMs).toBe(16);
    expect(result.best?.recordedMs).toBeUndefined();
    expect(result.floatMeasuredMs).toBe(20);
    expect(result.message).toContain("measured 16.000 ms vs float 20.000 ms");
  });
});
