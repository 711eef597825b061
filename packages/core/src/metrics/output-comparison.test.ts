import { describe, expect, it } from "vitest";
import { sqnr } from "../numerics/sqnr.js";
import { OutputComparison } from "./output-comparison.js";

describe("OutputComparison", () => {
  it("streams SQNR equal to the one-shot SQNR and a closed-form cosine", () => {
    const ref = Float32Array.from({ length: 40 }, (_, i) => Math.sin(i));
    const approx = ref.map((v, i) => v + (i % 3 === 0 ? 0.01 : -0.02));
    const c = new OutputComparison("y");
    c.add(ref.subarray(0, 20), approx.subarray(0, 20), [2, 10]);
    c.add(ref.subarray(20), approx.subarray(20), [2, 10]);
    const r = c.result();
    expect(r.sqnr).toBeCloseTo(sqnr(ref, approx), 10);
    let dot = 0;
    let a = 0;
    let b = 0;
    for (let i = 0; i < 40; i++) {
      dot += (ref[i] as number) * (approx[i] as number);
      a += (ref[i] as number) ** 2;
      b += (approx[i] as number) ** 2;
    }
    expect(r.cosine).toBeCloseTo(dot / Math.sqrt(a * b), 12);
    expect(r.kind).toBe("class-vector");
    expect(r.agreementCount).toBe(4);
  });

  it("a one-element output is never judged by argmax: probabilities by their 0.5 decision", () => {
    const c = new OutputComparison("speech");
    // Four frames: float says speech, speech, silence, silence; quantized flips the second.
    c.add(Float32Array.of(0.9, 0.6, 0.2, 0.1), Float32Array.of(0.8, 0.4, 0.3, 0.1), [4, 1]);
    const r = c.result();
    expect(r.kind).toBe("decision");
    expect(r.agreement).toBe(0.75);
  });

  it("a one-element output outside [0, 1] gets no agreement at all", () => {
    const c = new OutputComparison("score");
    c.add(Float32Array.of(3, -2), Float32Array.of(3.1, -2.2), [2, 1]);
    expect(c.result().kind).toBe("values");
    expect(c.result().agreement).toBeUndefined();
  });

  it("a dense mask in [0, 1] is judged per element", () => {
    const c = new OutputComparison("mask");
    c.add(Float32Array.of(0.9, 0.1, 0.7, 0.2), Float32Array.of(0.9, 0.6, 0.7, 0.2), [1, 1, 2, 2]);
    expect(c.result()).toMatchObject({ kind: "decision", agreement: 0.75, agreementCount: 4 });
  });
});
