import { describe, expect, it } from "vitest";
import { encodeModel } from "../model/model-io.js";
import { DataType, type OnnxModel, type OnnxTensor } from "../model/onnx-schema.js";
import { makeTensor, readFloat32 } from "../model/tensor-data.js";
import { loadOnnxruntime } from "../runtime/onnxruntime.js";
import { quantizeWeightOnly } from "./quantize-weight-only.js";

const V = 12;
const H = 64;
/** ids -> Gather(table) -> MatMul(table^T) -> logits: an LM with tied embedding and head. */
function tiedModel(perturb = false): { model: OnnxModel; table: Float32Array } {
  const table = Float32Array.from({ length: V * H }, (_, i) => Math.sin(i * 0.71) * (1 + (i % 9) / 3));
  const transposed = new Float32Array(H * V);
  for (let v = 0; v < V; v++) for (let h = 0; h < H; h++) transposed[h * V + v] = table[v * H + h] as number;
  if (perturb) transposed[5] = (transposed[5] as number) + 1e-3;
  return {
    table,
    model: {
      irVersion: 8,
      opsetImport: [{ domain: "", version: 17 }],
      graph: {
        name: "lm",
        input: [{ name: "ids", type: { tensorType: { elemType: DataType.INT64, shape: { dim: [{ dimValue: 3 }] } } } }],
        output: [
          {
            name: "logits",
            type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [{ dimValue: 3 }, { dimValue: V }] } } },
          },
        ],
        valueInfo: [],
        initializer: [makeTensor("emb", [V, H], table), makeTensor("head", [H, V], transposed)],
        node: [
          { name: "embed", opType: "Gather", input: ["emb", "ids"], output: ["hidden"], attribute: [] },
          { name: "lm_head", opType: "MatMul", input: ["hidden", "head"], output: ["logits"], attribute: [] },
        ],
      },
    } as unknown as OnnxModel,
  };
}

describe("tied embedding and output projection, stored once", () => {
  it.each([
    ["int8 projection (default): one 8-bit table", {}, 8],
    ["int4 projection: one 4-bit table", { int4OutputProjection: "int4" as const }, 4],
  ])("%s read by GatherBlockQuantized and (through Reshape) MatMulNBits", async (_label, extra, bits) => {
    const { model, table } = tiedModel();
    const { model: q } = await quantizeWeightOnly(model, { weightType: "int4", blockSize: 32, ...extra });
    const nodes = q.graph?.node ?? [];
    const gather = nodes.find((n) => n.opType === "GatherBlockQuantized");
    const reshapeB = nodes.find((n) => n.opType === "Reshape" && n.output[0]?.endsWith("_B"));
    expect(gather?.attribute.find((a) => a.name === "bits")?.i).toBe(bits);
    expect(nodes.find((n) => n.opType === "MatMulNBits")?.attribute.find((a) => a.name === "bits")?.i).toBe(bits);
    // One data tensor for both readers; no float copy of either weight is left.
    expect(reshapeB?.input[0]).toBe(gather?.input[0]);
    const names = (q.graph?.initializer ?? []).map((t) => t.name);
    expect(names).not.toContain("emb");
    expect(names).not.toContain("head");
    const stored = (q.graph?.initializer ?? []).find((t) => t.name === gather?.input[0]) as OnnxTensor;
    const dataBytes = stored.rawData?.length;
    expect(dataBytes).toBe((V * H * bits) / 8);
    // onnxruntime: logits = dequantized rows . dequantized table^T, i.e. the lookup and the head
    // read the same values (each within half a step of the float table).
    const init = new Map((q.graph?.initializer ?? []).map((t) => [t.name, t] as const));
    const scales = readFloat32(init.get(gather?.input[2]) as OnnxTensor);
    const ort = await loadOnnxruntime();
    const session = await ort.InferenceSession.create(encodeModel(q));
    const ids = [0, 7, 11];
    const out = (await session.run({ ids: new ort.Tensor("int64", BigInt64Array.from(ids.map(BigInt)), [3]) })).logits
      ?.data as Float32Array;
    await session.release();
    const floatLogits = (r: number, v: number) => {
      let s = 0;
      for (let h = 0; h < H; h++) s += (table[(ids[r] as number) * H + h] as number) * (table[v * H + h] as number);
      return s;
    };
    let maxScale = 0;
    for (const s of scales) maxScale = Math.max(maxScale, s);
    // |q(a).q(b) - a.b| <= sum |a| e_b + |b| e_a + e_a e_b with e <= step / 2 per element.
    const bound = H * (2 * 4 * (maxScale / 2) + (maxScale / 2) ** 2);
    for (let r = 0; r < 3; r++)
      for (let v = 0; v < V; v++) expect(Math.abs((out[r * V + v] as number) - floatLogits(r, v))).toBeLessThan(bound);
  });

  it("a head that differs from the table's transpose in one element is not shared", async () => {
    const { model } = tiedModel(true);
    const { model: q } = await quantizeWeightOnly(model, { weightType: "int4", blockSize: 32 });
    const nodes = q.graph?.node ?? [];
    expect(nodes.some((n) => n.opType === "Reshape")).toBe(false);
    expect(nodes.map((n) => n.opType)).toEqual(["GatherBlockQuantized", "DequantizeLinear", "MatMul"]);
  });
});

describe("embedding tables as 8-bit GatherBlockQuantized", () => {
  it("looks up rows within half an 8-bit step of the float table (onnxruntime)", async () => {
    const { model, table } = tiedModel(true);
    // Only the lookup: the head is not tied (perturbed) and is dropped from the check.
    const { model: q } = await quantizeWeightOnly(model, { weightType: "int4", int4Embeddings: "block-quantized-8" });
    const gather = (q.graph?.node ?? []).find((n) => n.opType === "GatherBlockQuantized");
    expect(Number(gather?.attribute.find((a) => a.name === "bits")?.i)).toBe(8);
    const exposed = { ...q, graph: { ...q.graph, output: [{ name: "hidden" }] } } as OnnxModel;
    const ort = await loadOnnxruntime();
    const session = await ort.InferenceSession.create(encodeModel(exposed));
    const ids = [3, 0, 11];
    const rows = (await session.run({ ids: new ort.Tensor("int64", BigInt64Array.from(ids.map(BigInt)), [3]) })).hidden
      ?.data as Float32Array;
    await session.release();
    for (let r = 0; r < 3; r++)
      for (let b = 0; b < H / 32; b++) {
        let lo = 0;
        let hi = 0;
        for (let h = b * 32; h < (b + 1) * 32; h++) {
          lo = Math.min(lo, table[(ids[r] as number) * H + h] as number);
          hi = Math.max(hi, table[(ids[r] as number) * H + h] as number);
        }
        // Half a step of the block's 8-bit range, plus float32 rounding of the scale.
        const half = (hi - lo) / 255 / 2 + 1e-6;
        for (let h = b * 32; h < (b + 1) * 32; h++)
          expect(
            Math.abs((rows[r * H + h] as number) - (table[(ids[r] as number) * H + h] as number)),
          ).toBeLessThanOrEqual(half);
      }
  });
});
