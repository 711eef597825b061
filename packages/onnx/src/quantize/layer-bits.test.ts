import { describe, expect, it } from "vitest";
import { calibrationSourceFromBatches } from "../calibration/calibration-source.js";
import { encodeModel } from "../model/model-io.js";
import { DataType, type OnnxModel, type OnnxTensor } from "../model/onnx-schema.js";
import { makeTensor, readFloat32 } from "../model/tensor-data.js";
import { loadOnnxruntime } from "../runtime/onnxruntime.js";
import { quantizeMixed } from "./quantize-mixed.js";
import { quantizeWeightOnly } from "./quantize-weight-only.js";

const K = 80;
const N = 6;
/** x -> MatMul a [80, 6] -> y, plus x -> MatMul b -> z: two layers to give different bits. */
function twoMatMuls(): OnnxModel {
  const weight = (seed: number) => Float32Array.from({ length: K * N }, (_, i) => Math.sin(i * seed) * (1 + (i % 5)));
  const vi = (name: string, dims: number[]) => ({
    name,
    type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
  });
  return {
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }],
    graph: {
      name: "g",
      input: [vi("x", [3, K])],
      output: [vi("y", [3, N]), vi("z", [3, N])],
      valueInfo: [],
      initializer: [makeTensor("a", [K, N], weight(1.3)), makeTensor("b", [K, N], weight(0.7))],
      node: [
        { name: "mm_a", opType: "MatMul", input: ["x", "a"], output: ["y"], attribute: [] },
        { name: "mm_b", opType: "MatMul", input: ["x", "b"], output: ["z"], attribute: [] },
      ],
    },
  } as unknown as OnnxModel;
}

/** Dequantizes MatMulNBits' B/scales/zero points as onnxruntime documents them, into [K][N]. */
function dequantizeNBits(b: Uint8Array, scales: Float32Array, zp: Uint8Array, bits: number, blockSize: number) {
  const blocks = Math.ceil(K / blockSize);
  const blob = (blockSize * bits) / 8;
  const perByte = 8 / bits;
  const zpPerColumn = Math.ceil(blocks / perByte);
  const out = new Float32Array(K * N);
  for (let n = 0; n < N; n++)
    for (let k = 0; k < K; k++) {
      const bl = Math.floor(k / blockSize);
      const j = k % blockSize;
      const byte = b[(n * blocks + bl) * blob + Math.floor(j / perByte)] as number;
      const level = (byte >> (bits * (j % perByte))) & (2 ** bits - 1);
      const zByte = zp[n * zpPerColumn + Math.floor(bl / perByte)] as number;
      const z = (zByte >> (bits * (bl % perByte))) & (2 ** bits - 1);
      out[k * N + n] = (level - z) * (scales[n * blocks + bl] as number);
    }
  return out;
}

describe("per-layer bits (mixed precision's storage)", () => {
  it("8-bit MatMulNBits: onnxruntime computes x @ dequantized(B) of the bytes written, within 1/255 of each block's range", async () => {
    const model = twoMatMuls();
    const { model: q, report } = await quantizeWeightOnly(model, {
      weightType: "int4",
      blockSize: 16,
      int4OutputProjection: "int4",
      layerBits: { mm_a: 8, mm_b: 16 },
    });
    // K = 80 is five blocks of 16: an odd count, so 4-bit zero-point packing would differ from 8-bit.
    const nodes = q.graph?.node ?? [];
    expect(nodes.map((n) => n.opType)).toEqual(["MatMulNBits", "MatMul"]);
    expect(nodes[0]?.attribute.find((a) => a.name === "bits")?.i).toBe(8);
    expect(report.floatNodes).toEqual([{ name: "mm_b", opType: "MatMul", reason: "mixed precision kept it float" }]);
    const init = new Map((q.graph?.initializer ?? []).map((t) => [t.name, t] as const));
    const [, bName, sName, zName] = nodes[0]?.input ?? [];
    const b = (init.get(bName) as OnnxTensor).rawData as Uint8Array;
    expect(b.length).toBe(N * 5 * 16);
    const deq = dequantizeNBits(
      b,
      readFloat32(init.get(sName) as OnnxTensor),
      (init.get(zName) as OnnxTensor).rawData as Uint8Array,
      8,
      16,
    );
    const w = readFloat32(model.graph?.initializer[0] as OnnxTensor);
    for (let k = 0; k < K; k++)
      for (let n = 0; n < N; n++) {
        // Half a step of an 8-bit block: (max - min) / 255 / 2 <= 2 * 5 / 255 / 2 (|w| <= 5).
        expect(Math.abs((deq[k * N + n] as number) - (w[k * N + n] as number))).toBeLessThanOrEqual(5 / 255 + 1e-6);
      }
    const ort = await loadOnnxruntime();
    const session = await ort.InferenceSession.create(encodeModel(q));
    const x = Float32Array.from({ length: 3 * K }, (_, i) => Math.cos(i * 0.3));
    const out = await session.run({ x: new ort.Tensor("float32", x, [3, K]) });
    await session.release();
    const y = out.y?.data as Float32Array;
    const z = out.z?.data as Float32Array;
    const b32 = readFloat32(model.graph?.initializer[1] as OnnxTensor);
    for (let r = 0; r < 3; r++)
      for (let n = 0; n < N; n++) {
        let ref = 0;
        let exact = 0;
        for (let k = 0; k < K; k++) {
          ref += (x[r * K + k] as number) * (deq[k * N + n] as number);
          exact += (x[r * K + k] as number) * (b32[k * N + n] as number);
        }
        // float32 accumulation of 80 terms of magnitude <= 5 against float64: 1e-4 absolute.
        expect(Math.abs((y[r * N + n] as number) - ref)).toBeLessThan(1e-4);
        expect(Math.abs((z[r * N + n] as number) - exact)).toBeLessThan(1e-4);
      }
  });

  it("4-bit layers beside an 8-bit one keep their nibble packing", async () => {
    const { model: q } = await quantizeWeightOnly(twoMatMuls(), {
      weightType: "int4",
      blockSize: 16,
      int4OutputProjection: "int4",
      layerBits: { mm_a: 8 },
    });
    const nodes = q.graph?.node ?? [];
    expect(nodes.map((n) => n.attribute.find((a) => a.name === "bits")?.i)).toEqual([8, 4]);
    const init = new Map((q.graph?.initializer ?? []).map((t) => [t.name, t] as const));
    const b4 = init.get(nodes[1]?.input[1]) as OnnxTensor;
    const z4 = init.get(nodes[1]?.input[3]) as OnnxTensor;
    expect((b4.rawData as Uint8Array).length).toBe(N * 5 * 8);
    expect((z4.rawData as Uint8Array).length).toBe(N * 3);
  });
});

describe("quantizeMixed", () => {
  const data = calibrationSourceFromBatches([
    { x: { dtype: "float32", data: Float32Array.from({ length: 3 * K }, (_, i) => Math.sin(i * 0.37)), dims: [3, K] } },
  ]);
  /** Layer b made exact in int4 (one value per column: every block is its top level), a unchanged. */
  function outlierModel(): OnnxModel {
    const model = twoMatMuls();
    const b = Float32Array.from({ length: K * N }, (_, i) => 1 + (i % N));
    (model.graph as { initializer: OnnxTensor[] }).initializer[1] = makeTensor("b", [K, N], b);
    return model;
  }

  it("moves the layer with the larger int4 error to 8 bits when the budget buys one layer", async () => {
    const model = outlierModel();
    const { report: plain } = await quantizeMixed(model, {
      calibrationData: data,
      blockSize: 16,
      maxSize: { ratio: 1 },
    });
    expect(plain.layers.map((l) => l.bits)).toEqual([4, 4]);
    expect(plain.layers[0]?.baseError as number).toBeGreaterThan(1e-4);
    expect(plain.layers[1]?.baseError as number).toBeLessThan(1e-12);
    // One 8-bit upgrade costs N * 5 blocks * 8 more level bytes (+ zero points): allow exactly one.
    const { model: q, report } = await quantizeMixed(model, {
      calibrationData: data,
      blockSize: 16,
      maxSize: { bytes: plain.int4Bytes + N * 5 * 8 + N * 5 },
    });
    expect(report.layers.map((l) => [l.name, l.bits])).toEqual([
      ["mm_a", 8],
      ["mm_b", 4],
    ]);
    expect(report.bytes).toBeLessThanOrEqual(report.budgetBytes);
    expect(q.graph?.node.map((n) => n.attribute.find((a) => a.name === "bits")?.i)).toEqual([8, 4]);
  });

  it("refuses a budget below the all-int4 size and missing calibration data", async () => {
    await expect(quantizeMixed(twoMatMuls(), { calibrationData: data, maxSize: { bytes: 10 } })).rejects.toThrow(
      /below the all-int4/,
    );
    await expect(quantizeMixed(twoMatMuls(), {} as never)).rejects.toThrow(/calibration data/);
  });
});

describe("MatMulNBits accuracy_level", () => {
  it("4 (int8 activations) writes the attribute and stays within int8 activation rounding of level 0", async () => {
    const ort = await loadOnnxruntime();
    const x = Float32Array.from({ length: 3 * K }, (_, i) => Math.cos(i * 0.3));
    const outputs: Float32Array[] = [];
    for (const accuracyLevel of [0, 4] as const) {
      const { model: q } = await quantizeWeightOnly(twoMatMuls(), {
        weightType: "int4",
        blockSize: 16,
        int4OutputProjection: "int4",
        accuracyLevel,
      });
      const levels = (q.graph?.node ?? []).map((n) => n.attribute.find((a) => a.name === "accuracy_level")?.i);
      expect(levels).toEqual(accuracyLevel === 0 ? [undefined, undefined] : [4, 4]);
      const session = await ort.InferenceSession.create(encodeModel(q));
      outputs.push((await session.run({ x: new ort.Tensor("float32", x, [3, K]) })).y?.data as Float32Array);
      await session.release();
    }
    // Activations in int8 blocks: each |x| <= 1 moves by at most 1/254 of its block's absmax (1);
    // over K = 80 terms with |w| <= 5: |dy| <= 80 * 5 / 254 = 1.6, a loose closed-form bound.
    // (Whether a CPU has an int8 kernel for it is onnxruntime's choice; it may fall back to float.)
    const [plain, int8] = outputs as [Float32Array, Float32Array];
    for (let i = 0; i < plain.length; i++)
      expect(Math.abs((plain[i] as number) - (int8[i] as number))).toBeLessThan(1.6);
  });

  it("refuses a level outside 0..4", async () => {
    await expect(quantizeWeightOnly(twoMatMuls(), { weightType: "int4", accuracyLevel: 7 as never })).rejects.toThrow(
      /accuracy level/,
    );
  });
});
