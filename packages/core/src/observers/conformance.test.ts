import { arraySplit, decodeF32, readSharedF32, readSharedJson, relativeDifference } from "@zeropoint/test-helpers";
import { describe, expect, it } from "vitest";
import { createObserver } from "./create-observer.js";
import type { Observer, ObserverKind, ObserverOptions } from "./observer.js";

interface QRef {
  scale: number;
  zero_point: number;
  min: number;
  max: number;
}
type PerTensor = Record<string, { data: string } & Record<string, QRef>>;
interface PytorchObservers {
  per_tensor: PerTensor;
  per_channel: Record<
    string,
    {
      shape: number[];
      data: string;
      qint8_symmetric: { scale: number[]; zero_point: number[] };
      quint8_affine: { scale: number[]; zero_point: number[] };
    }
  >;
}

const observers = readSharedJson<PytorchObservers>("conformance/pytorch-observers.json");

function feed(observer: Observer, chunks: Float32Array[]): Observer {
  for (let pass = 0; pass < observer.passes; pass++) {
    if (pass > 0) observer.nextPass();
    for (const c of chunks) observer.observe(c);
  }
  return observer;
}

function run(kind: ObserverKind, options: ObserverOptions, chunks: Float32Array[]) {
  const o = feed(createObserver(kind, options), chunks);
  const qp = o.qparams();
  return { scale: qp.scale[0] as number, zeroPoint: qp.zeroPoint[0] as number, observer: o };
}

// Tolerances from the issue: min/max kinds 1e-6 relative (float32 arithmetic reproduced step by step,
// so the only slack is float32 rounding order), zero points exact; histogram 1e-4 relative, zp ±1.
describe("PyTorch observers (pytorch-observers.json)", () => {
  for (const [name, t] of Object.entries(observers.per_tensor)) {
    const data = decodeF32(t.data);
    const cases: [string, ObserverKind, ObserverOptions, Float32Array[], number, number][] = [
      ["minmax_quint8_affine", "minmax", {}, [data], 1e-6, 0],
      ["minmax_quint8_affine_rr", "minmax", { reduceRange: true }, [data], 1e-6, 0],
      ["minmax_qint8_symmetric", "minmax", { dtype: "int8", symmetric: true }, [data], 1e-6, 0],
      [
        "moving_average_quint8_chunks8",
        "moving-average-minmax",
        { averagingConstant: 0.01 },
        arraySplit(data, 8),
        1e-6,
        0,
      ],
      ["histogram_quint8_affine", "histogram", {}, [data], 1e-4, 1],
      ["histogram_qint8_symmetric", "histogram", { dtype: "int8", symmetric: true }, [data], 1e-4, 1],
    ];
    for (const [key, kind, options, chunks, scaleTol, zpTol] of cases) {
      it(`${name} ${key}`, () => {
        const ref = t[key] as QRef;
        const { scale, zeroPoint, observer } = run(kind, options, chunks);
        expect(relativeDifference(scale, ref.scale)).toBeLessThanOrEqual(scaleTol);
        expect(Math.abs(zeroPoint - ref.zero_point)).toBeLessThanOrEqual(zpTol);
        const seen = observer.observedRange();
        if (kind !== "histogram") {
          expect(seen.min[0]).toBe(Math.fround(ref.min));
          expect(seen.max[0]).toBe(Math.fround(ref.max));
        }
      });
    }
  }

  for (const [name, w] of Object.entries(observers.per_channel)) {
    const data = decodeF32(w.data);
    for (const [key, options] of [
      ["qint8_symmetric", { dtype: "int8", symmetric: true }],
      ["quint8_affine", {}],
    ] as const) {
      it(`${name} per-channel ${key}`, () => {
        const o = createObserver("per-channel-minmax", { ...options, axis: 0 });
        o.observe(data, w.shape);
        const qp = o.qparams();
        const ref = w[key];
        expect(qp.scale.length).toBe(ref.scale.length);
        for (const [i, s] of ref.scale.entries()) {
          expect(relativeDifference(qp.scale[i] as number, s)).toBeLessThanOrEqual(1e-6);
        }
        expect(Array.from(qp.zeroPoint)).toEqual(ref.zero_point);
        expect(qp.axis).toBe(0);
      });
    }
  }
});

interface ChunkedRef {
  pytorch: Record<string, Record<string, QRef>>;
  onnxruntime: Record<string, Record<string, { low: number; high: number; options: Record<string, unknown> }>>;
}
const chunked = readSharedJson<ChunkedRef>("conformance/chunked-calibration.json");

function ortOptions(kind: "entropy" | "percentile", o: Record<string, unknown>): ObserverOptions {
  return {
    ...(o.num_bins !== undefined ? { bins: o.num_bins as number } : {}),
    ...(o.num_quantized_bins !== undefined ? { quantizedBins: o.num_quantized_bins as number } : {}),
    ...(o.percentile !== undefined ? { percentile: o.percentile as number } : {}),
    ...(o.symmetric !== undefined ? { symmetric: o.symmetric as boolean } : {}),
    ...(kind === "entropy" ? {} : {}),
  };
}

describe("chunked calibration (chunked-calibration.json, 8 chunks)", () => {
  for (const [name, refs] of Object.entries(chunked.pytorch)) {
    const data = readSharedF32(`conformance/tensors/${name}.f32`);
    const chunks = arraySplit(data, 8);
    for (const [key, ref] of Object.entries(refs)) {
      const oneBatch = key.endsWith("_one_batch");
      const base = key.replace(/_one_batch$/, "");
      const kind: ObserverKind = base.startsWith("minmax") ? "minmax" : "histogram";
      const options: ObserverOptions = base.endsWith("_rr")
        ? { reduceRange: true }
        : base.endsWith("qint8_symmetric")
          ? { dtype: "int8", symmetric: true }
          : {};
      it(`pytorch ${name} ${key}`, () => {
        const { scale, zeroPoint } = run(kind, options, oneBatch ? [data] : chunks);
        if (kind === "minmax") {
          expect(scale).toBe(Math.fround(ref.scale));
          expect(zeroPoint).toBe(ref.zero_point);
        } else {
          expect(relativeDifference(scale, ref.scale)).toBeLessThanOrEqual(1e-4);
          expect(Math.abs(zeroPoint - ref.zero_point)).toBeLessThanOrEqual(1);
        }
      });
    }
  }
  for (const [name, refs] of Object.entries(chunked.onnxruntime)) {
    const data = readSharedF32(`conformance/tensors/${name}.f32`);
    const chunks = arraySplit(data, 8);
    for (const [key, ref] of Object.entries(refs)) {
      it(`onnxruntime ${name} ${key}`, () => {
        const kind: ObserverKind = key.startsWith("Entropy")
          ? "entropy"
          : key.startsWith("Percentile")
            ? "percentile"
            : "minmax";
        const o = feed(createObserver(kind, kind === "minmax" ? {} : ortOptions(kind, ref.options)), chunks);
        const r = o.range();
        const width = ref.high - ref.low;
        if (kind === "minmax") {
          expect(r.min[0]).toBe(Math.fround(ref.low));
          expect(r.max[0]).toBe(Math.fround(ref.high));
        } else {
          // 1e-4 of the range width: tighter than one histogram bin (1/2048 of ±max|x|).
          expect(Math.abs((r.min[0] as number) - ref.low)).toBeLessThanOrEqual(1e-4 * width);
          expect(Math.abs((r.max[0] as number) - ref.high)).toBeLessThanOrEqual(1e-4 * width);
        }
      });
    }
  }
});

interface OrtCalibrators {
  per_tensor: Record<string, Record<string, { low: number; high: number }>>;
}
const ortSmall = readSharedJson<OrtCalibrators>("conformance/onnxruntime-calibrators.json");

describe("onnxruntime calibrators (onnxruntime-calibrators.json, 4 batches)", () => {
  for (const [name, refs] of Object.entries(ortSmall.per_tensor)) {
    const data = decodeF32((observers.per_tensor[name] as { data: string }).data);
    const chunks = arraySplit(data, 4);
    for (const [key, ref] of Object.entries(refs)) {
      it(`${name} ${key}`, () => {
        const kind: ObserverKind = key === "MinMax" ? "minmax" : key === "Entropy" ? "entropy" : "percentile";
        const r = feed(createObserver(kind), chunks).range();
        const width = Math.max(ref.high - ref.low, Number.MIN_VALUE);
        expect(Math.abs((r.min[0] as number) - ref.low)).toBeLessThanOrEqual(1e-4 * width);
        expect(Math.abs((r.max[0] as number) - ref.high)).toBeLessThanOrEqual(1e-4 * width);
      });
    }
  }
});
