/**
 * MatMulNBits accuracy_level benchmark (`pnpm bench`): one 4096 x 4096 int4 layer (block 32) run by
 * onnxruntime-node on 32 activation rows at accuracy_level 0 (the default) and 4 (int8
 * activations), interleaved rounds, median time per run and the ratio measured in the same run.
 */
import { encodeModel } from "../src/model/model-io.js";
import { DataType, type OnnxModel } from "../src/model/onnx-schema.js";
import { makeTensor } from "../src/model/tensor-data.js";
import { quantizeWeightOnly } from "../src/quantize/quantize-weight-only.js";
import { loadOnnxruntime } from "../src/runtime/onnxruntime.js";

const K = 4096;
const N = 4096;
const M = 32;
let s = 99;
const w = Float32Array.from({ length: K * N }, () => {
  s = (Math.imul(s, 1103515245) + 12345) >>> 0;
  return s / 4294967296 - 0.5;
});
const vi = (name: string, dims: number[]) => ({
  name,
  type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
});
const model = {
  irVersion: 8,
  opsetImport: [{ domain: "", version: 17 }],
  graph: {
    name: "g",
    input: [vi("x", [M, K])],
    output: [vi("y", [M, N])],
    valueInfo: [],
    initializer: [makeTensor("w", [K, N], w)],
    node: [{ name: "mm", opType: "MatMul", input: ["x", "w"], output: ["y"], attribute: [] }],
  },
} as unknown as OnnxModel;
const ort = await loadOnnxruntime();
const x = new ort.Tensor(
  "float32",
  Float32Array.from({ length: M * K }, (_, i) => Math.sin(i)),
  [M, K],
);
const sessions = [];
for (const accuracyLevel of [0, 4] as const) {
  const { model: q } = await quantizeWeightOnly(model, {
    weightType: "int4",
    int4OutputProjection: "int4",
    accuracyLevel,
  });
  sessions.push(
    await ort.InferenceSession.create(encodeModel(q), { executionProviders: ["cpu"], intraOpNumThreads: 1 }),
  );
}
const times: number[][] = [[], []];
for (let round = 0; round < 30; round++)
  for (const [i, session] of sessions.entries()) {
    const t0 = performance.now();
    await session.run({ x });
    if (round >= 3) times[i]?.push(performance.now() - t0);
  }
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] as number;
const [level0, level4] = times.map(median) as [number, number];
console.log("\n@zeropoint/onnx MatMulNBits 4096 x 4096 int4, 32 rows, 1 thread");
console.log(
  `  accuracy_level 0: ${level0.toFixed(2)} ms; accuracy_level 4: ${level4.toFixed(2)} ms (${(level0 / level4).toFixed(2)}x)`,
);
for (const session of sessions) await session.release();
