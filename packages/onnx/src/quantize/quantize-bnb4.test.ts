import { describe, expect, it } from "vitest";
import { encodeModel } from "../model/model-io.js";
import { DataType, type OnnxModel } from "../model/onnx-schema.js";
import { makeTensor, readFloat32 } from "../model/tensor-data.js";
import { loadOnnxruntime } from "../runtime/onnxruntime.js";
import { FP4_LEVELS, NF4_LEVELS, nearestFp4, nearestNf4, quantizeBnb4 } from "./quantize-bnb4.js";

const K = 48;
const N = 5;
/** y = x @ W, W [48, 5] with a deterministic spread of values (K * N = 240: blocks 64, 64, 64, 48). */
function matmul(): { model: OnnxModel; w: Float32Array } {
  const w = Float32Array.from({ length: K * N }, (_, i) => Math.sin(i * 1.7) * (1 + (i % 7)));
  const vi = (name: string, dims: number[]) => ({
    name,
    type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
  });
  return {
    w,
    model: {
      irVersion: 8,
      opsetImport: [{ domain: "", version: 17 }],
      graph: {
        name: "g",
        input: [vi("x", [2, K])],
        output: [vi("y", [2, N])],
        valueInfo: [],
        initializer: [makeTensor("w", [K, N], w)],
        node: [{ name: "mm", opType: "MatMul", input: ["x", "w"], output: ["y"], attribute: [] }],
      },
    } as unknown as OnnxModel,
  };
}

/** onnxruntime runs `q` on two rows and gives x @ deq ([K, N], decoded from the stored codes). */
async function expectComputes(q: OnnxModel, deq: Float32Array): Promise<void> {
  const x = Float32Array.from({ length: 2 * K }, (_, i) => Math.cos(i));
  const ort = await loadOnnxruntime();
  const session = await ort.InferenceSession.create(encodeModel(q));
  const y = (await session.run({ x: new ort.Tensor("float32", x, [2, K]) })).y?.data as Float32Array;
  await session.release();
  for (let r = 0; r < 2; r++)
    for (let c = 0; c < N; c++) {
      let ref = 0;
      for (let k = 0; k < K; k++) ref += (x[r * K + k] as number) * (deq[k * N + c] as number);
      // float32 GEMM vs float64 sum over 48 terms of magnitude <= 7: 1e-4 absolute.
      expect(Math.abs((y[r * N + c] as number) - ref)).toBeLessThan(1e-4);
    }
}

describe("bnb4 (MatMulBnb4, NF4)", () => {
  it("nearestNf4 picks the nearest level, exact levels map to themselves", () => {
    expect(NF4_LEVELS.map((v) => nearestNf4(v))).toEqual(NF4_LEVELS.map((_, c) => c));
    expect(nearestNf4(0.01)).toBe(7);
    expect(nearestNf4(-0.99)).toBe(0);
  });

  it("onnxruntime's MatMulBnb4 computes x @ dequantized(W) of the codes written (closed form)", async () => {
    const { model, w } = matmul();
    // The one MatMul writes the graph output: asked for explicitly (by default it stays float).
    const { model: q, report } = quantizeBnb4(model, { outputProjection: "bnb4" });
    expect(report.quantizedNodes).toEqual(["mm"]);
    expect(q.graph?.node.map((n) => n.opType)).toEqual(["MatMulBnb4"]);
    const init = new Map(q.graph?.initializer.map((t) => [t.name, t]));
    const codes = init.get("w_Bnb4")?.rawData as Uint8Array;
    const absmax = readFloat32(init.get("w_absmax") as never);
    expect(codes.length).toBe((K * N) / 2);
    expect(absmax.length).toBe(Math.ceil((K * N) / 64));
    // The reference: decode element e of W^T (high nibble first) from the stored codes.
    const deq = new Float32Array(K * N);
    for (let e = 0; e < K * N; e++) {
      const byte = codes[e >> 1] as number;
      const code = (e & 1) === 0 ? byte >> 4 : byte & 15;
      const [col, row] = [Math.floor(e / K), e % K];
      deq[row * N + col] = (NF4_LEVELS[code] as number) * (absmax[Math.floor(e / 64)] as number);
    }
    // Each weight within half the widest NF4 gap (-1 to -0.696: 0.152 x its block's absmax).
    for (let e = 0; e < K * N; e++) {
      const i = (e % K) * N + Math.floor(e / K);
      const bound = 0.1521 * (absmax[Math.floor(e / 64)] as number);
      expect(Math.abs((deq[i] as number) - (w[i] as number))).toBeLessThanOrEqual(bound);
    }
    await expectComputes(q, deq);
  });

  it("FP4 (quant_type 0): codes keep the sign bit, onnxruntime computes x @ dequantized(W)", async () => {
    expect(FP4_LEVELS.map((v, c) => nearestFp4(Object.is(v, -0) ? -1e-9 : v) === c)).toEqual(
      FP4_LEVELS.map(() => true),
    );
    expect(nearestFp4(0.3)).toBe(4);
    expect(nearestFp4(-0.001)).toBe(8);
    const { model, w } = matmul();
    const { model: q } = quantizeBnb4(model, { outputProjection: "bnb4", quantType: "fp4" });
    const node = q.graph?.node[0];
    expect(Number(node?.attribute.find((a) => a.name === "quant_type")?.i)).toBe(0);
    const init = new Map(q.graph?.initializer.map((t) => [t.name, t]));
    const codes = init.get("w_Bnb4")?.rawData as Uint8Array;
    const absmax = readFloat32(init.get("w_absmax") as never);
    const deq = new Float32Array(K * N);
    for (let e = 0; e < K * N; e++) {
      const byte = codes[e >> 1] as number;
      const code = (e & 1) === 0 ? byte >> 4 : byte & 15;
      deq[(e % K) * N + Math.floor(e / K)] = (FP4_LEVELS[code] as number) * (absmax[Math.floor(e / 64)] as number);
    }
    // Each weight within half the widest FP4 gap (2/3 to 1: 1/6 of its block's absmax).
    for (let e = 0; e < K * N; e++) {
      const i = (e % K) * N + Math.floor(e / K);
      expect(Math.abs((deq[i] as number) - (w[i] as number))).toBeLessThanOrEqual(
        (absmax[Math.floor(e / 64)] as number) / 6 + 1e-6,
      );
    }
    await expectComputes(q, deq);
  });

  it("keeps the output projection float by default, as bitsandbytes keeps lm_head", () => {
    const { model: q, report } = quantizeBnb4(matmul().model);
    expect(q.graph?.node.map((n) => n.opType)).toEqual(["MatMul"]);
    expect(report.floatNodes[0]?.reason).toMatch(/output projection/);
  });

  it("refuses a block size that is not a power of two >= 16", () => {
    expect(() => quantizeBnb4(matmul().model, { blockSize: 48 })).toThrow(/power of two/);
  });
});
