import { arraySplit, readSharedF32, relativeDifference, seededRandom } from "@zeropoint/test-helpers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { dequantize, quantize } from "../kernels/quantize.js";
import type { QParams } from "../qparams/qparams.js";
import { createObserver, observerFromJSON } from "./create-observer.js";
import { OBSERVER_KINDS, type Observer, type ObserverKind } from "./observer.js";

function feedAll(o: Observer, chunks: Float32Array[], shape?: (c: Float32Array) => number[]): Observer {
  for (let pass = 0; pass < o.passes; pass++) {
    if (pass > 0) o.nextPass();
    for (const c of chunks) o.observe(c, shape?.(c));
  }
  return o;
}

function quantizationMse(x: Float32Array, qp: QParams): number {
  const back = dequantize(quantize(x, qp), qp);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += ((back[i] as number) - (x[i] as number)) ** 2;
  return s / x.length;
}

function countLeaves(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + countLeaves(v), 0);
  if (typeof value === "object" && value !== null)
    return Object.values(value).reduce((n: number, v) => n + countLeaves(v), 0);
  return 1;
}

const floatArray = fc.array(fc.float({ noNaN: true, noDefaultInfinity: true, min: -1e4, max: 1e4 }), {
  minLength: 1,
  maxLength: 50,
});

describe("merge", () => {
  it("min/max observers: merging shards equals observing the concatenation exactly", () => {
    fc.assert(
      fc.property(floatArray, floatArray, (a, b) => {
        const left = createObserver("minmax");
        left.observe(Float32Array.from(a));
        const right = createObserver("minmax");
        right.observe(Float32Array.from(b));
        left.merge(right);
        const whole = createObserver("minmax");
        whole.observe(Float32Array.from([...a, ...b]));
        expect(left.qparams()).toEqual(whole.qparams());
        expect(left.range()).toEqual(whole.range());
      }),
    );
  });

  it("per-channel min/max: merging shards is exact", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 0, max: 1000 }),
        (ch, inner, seed) => {
          const rand = seededRandom(seed);
          const make = () => new Float32Array(2 * ch * inner).map(() => (rand() - 0.5) * 10);
          const a = make();
          const b = make();
          const shape = [2, ch, inner];
          const left = createObserver("per-channel-minmax", { axis: 1, dtype: "int8", symmetric: true });
          left.observe(a, shape);
          const right = createObserver("per-channel-minmax", { axis: 1, dtype: "int8", symmetric: true });
          right.observe(b, shape);
          left.merge(right);
          const whole = createObserver("per-channel-minmax", { axis: 1, dtype: "int8", symmetric: true });
          whole.observe(Float32Array.from([...a, ...b]), [4, ch, inner]);
          expect(left.qparams()).toEqual(whole.qparams());
        },
      ),
    );
  });

  it("histogram: merged scale within 1e-2 relative and zero point ±2 of one call on the concatenation", () => {
    for (const name of ["c_student_t3", "c_signed_lognormal", "c_relu_outliers", "c_bimodal_outliers"]) {
      const data = readSharedF32(`conformance/tensors/${name}.f32`);
      const [a, b] = arraySplit(data, 2) as [Float32Array, Float32Array];
      const left = createObserver("histogram");
      left.observe(a);
      const right = createObserver("histogram");
      right.observe(b);
      left.merge(right);
      const whole = createObserver("histogram");
      whole.observe(data);
      const m = left.qparams();
      const w = whole.qparams();
      expect(relativeDifference(m.scale[0] as number, w.scale[0] as number)).toBeLessThanOrEqual(1e-2);
      expect(Math.abs((m.zeroPoint[0] as number) - (w.zeroPoint[0] as number))).toBeLessThanOrEqual(2);
    }
  });

  it("entropy/percentile: exact when shards share the pass-1 range, typed error otherwise", () => {
    const data = readSharedF32("conformance/tensors/c_student_t3.f32");
    const [a, b] = arraySplit(data, 2) as [Float32Array, Float32Array];
    for (const kind of ["entropy", "percentile"] as const) {
      const options = kind === "entropy" ? { bins: 2048 } : { percentile: 99.9 };
      // Pass 1 on each shard, merged, then shared: both shards fill pass 2 on the same edges.
      const left = createObserver(kind, options);
      left.observe(a);
      const right = createObserver(kind, options);
      right.observe(b);
      left.merge(right);
      const shared = left.toJSON();
      const shard1 = observerFromJSON(shared);
      const shard2 = observerFromJSON(shared);
      shard1.nextPass();
      shard2.nextPass();
      shard1.observe(a);
      shard2.observe(b);
      shard1.merge(shard2);
      const whole = feedAll(createObserver(kind, options), [data]);
      expect(shard1.range()).toEqual(whole.range());
      expect(shard1.qparams()).toEqual(whole.qparams());

      const lone1 = createObserver(kind, options);
      lone1.observe(a);
      lone1.nextPass();
      lone1.observe(a);
      const lone2 = createObserver(kind, options);
      lone2.observe(b);
      lone2.nextPass();
      lone2.observe(b);
      expect(() => lone1.merge(lone2)).toThrow(expect.objectContaining({ code: "merge-unsupported" }));
    }
  });

  it("moving-average kinds refuse to merge (their result depends on batch order)", () => {
    for (const kind of ["moving-average-minmax", "moving-average-per-channel-minmax"] as const) {
      const a = createObserver(kind);
      const b = createObserver(kind);
      expect(() => a.merge(b)).toThrow(expect.objectContaining({ code: "merge-unsupported" }));
    }
    expect(() => createObserver("minmax").merge(createObserver("histogram"))).toThrow(
      expect.objectContaining({ code: "merge-unsupported" }),
    );
  });
});

describe("serialization and resume", () => {
  const data = readSharedF32("conformance/tensors/c_bimodal_outliers.f32");
  const chunks = arraySplit(data, 8);
  for (const kind of OBSERVER_KINDS) {
    it(`${kind}: toJSON → JSON text → fromJSON mid-stream gives the same result as an uninterrupted run`, () => {
      const perChannel = kind.includes("per-channel");
      const shape = perChannel ? (c: Float32Array) => [c.length / 64, 64] : undefined;
      const options = perChannel ? { axis: 1 } : {};
      const straight = feedAll(createObserver(kind, options), chunks, shape);
      let o = createObserver(kind, options);
      for (let pass = 0; pass < o.passes; pass++) {
        if (pass > 0) o.nextPass();
        for (const [i, c] of chunks.entries()) {
          o.observe(c, shape?.(c));
          if (i === 3) o = observerFromJSON(JSON.stringify(o.toJSON()));
        }
      }
      expect(o.qparams()).toEqual(straight.qparams());
      expect(o.range()).toEqual(straight.range());
    });
  }

  it("state size does not grow with the number of batches (streaming)", () => {
    for (const kind of OBSERVER_KINDS) {
      const perChannel = kind.includes("per-channel");
      const size = (batches: number) => {
        const o = createObserver(kind, perChannel ? { axis: 1 } : {});
        const rand = seededRandom(batches);
        for (let pass = 0; pass < o.passes; pass++) {
          if (pass > 0) o.nextPass();
          const r2 = seededRandom(batches);
          for (let i = 0; i < batches; i++) {
            const x = new Float32Array(256).map(() => (r2() - 0.5) * 4);
            o.observe(x, perChannel ? [4, 64] : undefined);
          }
        }
        void rand;
        return countLeaves(o.toJSON());
      };
      const small = size(4);
      const large = size(64);
      // The number of stored values is the same for 4 and 64 batches.
      expect(large).toBe(small);
    }
  });

  it("rejects foreign or corrupt state with a typed error", () => {
    expect(() => observerFromJSON("{not json")).toThrow(expect.objectContaining({ code: "invalid-state" }));
    expect(() => observerFromJSON({ format: "other" } as never)).toThrow(
      expect.objectContaining({ code: "invalid-state" }),
    );
  });
});

describe("mse calibrator", () => {
  it("beats minmax and the default percentile (99.999) in quantization MSE on c_relu_outliers", () => {
    const data = readSharedF32("conformance/tensors/c_relu_outliers.f32");
    const chunks = arraySplit(data, 8);
    const mse = quantizationMse(data, feedAll(createObserver("mse"), chunks).qparams());
    const minmax = quantizationMse(data, feedAll(createObserver("minmax"), chunks).qparams());
    const percentile = quantizationMse(data, feedAll(createObserver("percentile"), chunks).qparams());
    expect(mse).toBeLessThan(minmax);
    expect(mse).toBeLessThan(percentile);
  });

  it("scores at least 100 candidates per side and never widens past what was seen", () => {
    expect(() => createObserver("mse", { candidates: 50 })).toThrow(
      expect.objectContaining({ code: "invalid-argument" }),
    );
    const data = readSharedF32("conformance/tensors/c_student_t3.f32");
    const o = createObserver("mse");
    o.observe(data);
    const r = o.range();
    const seen = o.observedRange();
    expect(r.min[0]).toBeGreaterThanOrEqual(seen.min[0] as number);
    expect(r.max[0]).toBeLessThanOrEqual(seen.max[0] as number);
  });
});

describe("bad input", () => {
  const kinds: ObserverKind[] = [...OBSERVER_KINDS];
  it("NaN is ignored, as min/max do in the anchors", () => {
    const o = createObserver("minmax");
    o.observe(Float32Array.of(Number.NaN, 1, -2, Number.NaN));
    expect(Array.from(o.range().min)).toEqual([-2]);
    const h = createObserver("histogram");
    h.observe(Float32Array.of(Number.NaN, 1, -2));
    expect(h.observedRange().max[0]).toBe(1);
  });

  it("±Infinity is a typed error naming the element", () => {
    for (const kind of kinds) {
      const o = createObserver(kind);
      const shape = kind.includes("per-channel") ? [1, 3] : undefined;
      expect(() => o.observe(Float32Array.of(1, Number.POSITIVE_INFINITY, 2), shape)).toThrow(
        expect.objectContaining({ code: "non-finite-data" }),
      );
    }
  });

  it("an empty calibration set gives observer-not-ready, not a made-up range", () => {
    for (const kind of kinds) {
      const o = createObserver(kind);
      o.observe(new Float32Array(0), kind.includes("per-channel") ? [0, 3] : undefined);
      expect(() => o.qparams()).toThrow(expect.objectContaining({ code: "observer-not-ready" }));
    }
  });

  it("shape problems are typed errors", () => {
    expect(() => createObserver("per-channel-minmax").observe(Float32Array.of(1, 2))).toThrow(
      expect.objectContaining({ code: "invalid-shape" }),
    );
    expect(() => createObserver("minmax").observe(Float32Array.of(1, 2), [3])).toThrow(
      expect.objectContaining({ code: "shape-mismatch" }),
    );
    expect(() => createObserver("per-channel-minmax", { axis: 3 }).observe(Float32Array.of(1, 2), [2])).toThrow(
      expect.objectContaining({ code: "invalid-axis" }),
    );
    const pc = createObserver("per-channel-minmax");
    pc.observe(Float32Array.of(1, 2), [2]);
    expect(() => pc.observe(Float32Array.of(1, 2, 3), [3])).toThrow(
      expect.objectContaining({ code: "shape-mismatch" }),
    );
    expect(() => createObserver("minmax").observe([1, 2] as unknown as Float32Array)).toThrow(
      expect.objectContaining({ code: "invalid-argument" }),
    );
    expect(() => createObserver("nope" as ObserverKind)).toThrow(expect.objectContaining({ code: "invalid-argument" }));
  });

  it("two-pass calibrators enforce their protocol", () => {
    const o = createObserver("entropy");
    o.observe(Float32Array.of(-1, 1));
    expect(() => o.range()).toThrow(expect.objectContaining({ code: "observer-not-ready" }));
    o.nextPass();
    expect(() => o.observe(Float32Array.of(5))).toThrow(expect.objectContaining({ code: "calibration-pass-mismatch" }));
    expect(() => o.nextPass()).toThrow(expect.objectContaining({ code: "invalid-state" }));
    expect(() => createObserver("minmax").nextPass()).toThrow(expect.objectContaining({ code: "invalid-state" }));
  });
});
