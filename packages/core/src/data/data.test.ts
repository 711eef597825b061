import { describe, expect, it } from "vitest";
import { ZeropointError } from "../errors/zeropoint-error.js";
import type { ModelInputSpec } from "./input-spec.js";
import { castTensor, floatToHalf, halfToFloat, type TensorRecord } from "./named-tensor.js";
import { randomSamples } from "./random-samples.js";
import { batchSamples, stack } from "./sample-batcher.js";

const collect = async <T>(it: AsyncIterable<T>) => {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
};

describe("named tensors", () => {
  it("float16 round trip is exact on halves and rounds half to even like NumPy", () => {
    // Closed-form halves: 1, -2, 65504 (max), 2^-24 (min subnormal), 0.
    for (const [v, bits] of [
      [1, 0x3c00],
      [-2, 0xc000],
      [65504, 0x7bff],
      [2 ** -24, 0x0001],
      [0, 0],
    ] as const) {
      expect(floatToHalf(v)).toBe(bits);
      expect(halfToFloat(bits)).toBe(v);
    }
    // 1 + 2^-11 lies halfway between 1 and 1 + 2^-10: ties go to the even mantissa (1).
    expect(floatToHalf(1 + 2 ** -11)).toBe(0x3c00);
    // 1 + 3 * 2^-11 lies halfway between 1+2^-10 (odd) and 1+2^-9 (even): rounds up.
    expect(floatToHalf(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(floatToHalf(70000)).toBe(0x7c00);
    expect(Number.isNaN(halfToFloat(floatToHalf(Number.NaN)))).toBe(true);
  });

  it("casts integral floats to int64 and refuses fractions and overflow", () => {
    const t = castTensor({ dtype: "float32", data: Float32Array.of(1, 2, 3), dims: [3] }, "int64", "ids");
    expect([...t.data]).toEqual([1n, 2n, 3n]);
    expect(() => castTensor({ dtype: "float32", data: Float32Array.of(1.5), dims: [1] }, "int64", "ids")).toThrow(
      /not an integer/,
    );
    expect(() => castTensor({ dtype: "int32", data: Int32Array.of(300), dims: [1] }, "uint8", "x")).toThrow(/range/);
  });
});

describe("batchSamples", () => {
  const gru: ModelInputSpec[] = [
    { name: "x", dtype: "float32", dims: ["batch", 2, 3], batchAxis: 0 },
    { name: "h0", dtype: "float32", dims: [1, "batch", 2], batchAxis: 1 },
  ];
  const sample = (k: number): TensorRecord => ({
    x: { dtype: "float32", data: Float32Array.from({ length: 6 }, (_, i) => k * 10 + i), dims: [2, 3] },
    h0: { dtype: "float32", data: Float32Array.of(k, -k), dims: [1, 2] },
  });

  it("stacks each input on its own batch axis", async () => {
    const [batch] = await collect(batchSamples(gru, [sample(1), sample(2), sample(3)], { batchSize: 8 }));
    expect(batch?.x?.dims).toEqual([3, 2, 3]);
    expect(batch?.h0?.dims).toEqual([1, 3, 2]);
    // h0 [1, batch, 2]: the samples' rows interleave on axis 1.
    expect(Array.from(batch?.h0?.data as Float32Array)).toEqual([1, -1, 2, -2, 3, -3]);
    expect(Array.from(batch?.x?.data as Float32Array).slice(6, 12)).toEqual([20, 21, 22, 23, 24, 25]);
  });

  it("feeds a fixed batch-1 model sample by sample", async () => {
    const fixed = gru.map((s) => ({ ...s, dims: s.dims.map((d) => (d === "batch" ? 1 : d)) }));
    const batches = await collect(batchSamples(fixed, [sample(1), sample(2), sample(3)], { batchSize: 16 }));
    expect(batches.length).toBe(3);
    expect(batches.map((b) => b.h0?.dims)).toEqual([
      [1, 1, 2],
      [1, 1, 2],
      [1, 1, 2],
    ]);
  });

  it("names the input on wrong dtype, rank, dims and NaN", async () => {
    const bad = (s: TensorRecord) => collect(batchSamples(gru, [s], { batchSize: 4 }));
    await expect(bad({ ...sample(1), x: { dtype: "int32", data: new Int32Array(6), dims: [2, 3] } })).rejects.toThrow(
      /input x: int32 data but the model takes float32/,
    );
    await expect(bad({ ...sample(1), h0: { dtype: "float32", data: new Float32Array(2), dims: [2] } })).rejects.toThrow(
      /input h0: rank 1/,
    );
    await expect(
      bad({ ...sample(1), x: { dtype: "float32", data: new Float32Array(8), dims: [2, 4] } }),
    ).rejects.toThrow(/input x: dim 2 is 4/);
    const nan = sample(1);
    (nan.x?.data as Float32Array)[3] = Number.NaN;
    await expect(bad(nan)).rejects.toBeInstanceOf(ZeropointError);
    await expect(bad({ x: sample(1).x } as TensorRecord)).rejects.toThrow(/no data for input h0/);
  });

  it("stack interleaves along a middle axis", () => {
    const a = { dtype: "int64" as const, data: BigInt64Array.of(1n, 2n, 3n, 4n), dims: [2, 2] };
    const b = { dtype: "int64" as const, data: BigInt64Array.of(5n, 6n, 7n, 8n), dims: [2, 2] };
    expect([...stack([a, b], 1).data]).toEqual([1n, 2n, 5n, 6n, 3n, 4n, 7n, 8n]);
  });
});

describe("randomSamples", () => {
  const bert: ModelInputSpec[] = [
    { name: "input_ids", dtype: "int64", dims: ["batch", "sequence"], batchAxis: 0, vocabSize: 50 },
    { name: "attention_mask", dtype: "int64", dims: ["batch", "sequence"], batchAxis: 0 },
  ];
  it("draws ids below the vocabulary, masks of ones, deterministically", () => {
    const a = [...randomSamples(bert, { count: 4, defaultDim: 16 })];
    const b = [...randomSamples(bert, { count: 4, defaultDim: 16 })];
    expect(a[0]?.input_ids?.dims).toEqual([16]);
    const ids = a.flatMap((s) => Array.from(s.input_ids?.data as BigInt64Array));
    expect(ids.every((v) => v >= 0n && v < 50n)).toBe(true);
    expect(new Set(ids).size).toBeGreaterThan(20);
    expect(a.every((s) => Array.from(s.attention_mask?.data as BigInt64Array).every((v) => v === 1n))).toBe(true);
    expect(a.map((s) => Array.from(s.input_ids?.data as BigInt64Array))).toEqual(
      b.map((s) => Array.from(s.input_ids?.data as BigInt64Array)),
    );
  });
  it("asks for a value where an integer input's range is unknown", () => {
    const sr: ModelInputSpec[] = [{ name: "sr", dtype: "int64", dims: ["batch"], batchAxis: 0 }];
    expect(() => [...randomSamples(sr, { count: 1 })]).toThrow(/--input sr=VALUE/);
    const ids: ModelInputSpec = { name: "ids", dtype: "int32", dims: ["batch", 4], batchAxis: 0 };
    expect(() => [...randomSamples([ids], { count: 1 })]).toThrow(/--vocab-size/);
    expect(() => [...randomSamples(bert, { count: 1 })]).toThrow(/symbolic dim "sequence" at axis 1/);
  });
});

describe("an input the model declares no shape for", () => {
  const spec: ModelInputSpec = { name: "x", dtype: "float32", dims: [], batchAxis: 0, shapeUnknown: true };
  it("takes samples of any rank, stacked on axis 0", async () => {
    const sample = { x: { dtype: "float32" as const, data: Float32Array.of(1, 2, 3, 4, 5, 6), dims: [2, 3] } };
    const [batch] = await collect(batchSamples([spec], [sample, sample], { batchSize: 4 }));
    expect(batch?.x?.dims).toEqual([2, 2, 3]);
  });
  it("synthetic data asks for --input-shape", () => {
    expect(() => [...randomSamples([spec], { count: 1 })]).toThrow(/declares no shape.*--input-shape x=/);
    const [s] = [...randomSamples([spec], { count: 1, inputShapes: { x: [1, 5] } })];
    expect(s?.x?.dims).toEqual([5]);
  });
});
