// Run by interrupt.test.ts: saves a large model to argv[2] over and over, announcing each write on
// stdout, until a signal ends the process.
import { saveModel } from "../src/model/model-io.js";
import type { OnnxModel } from "../src/model/onnx-schema.js";
import { makeTensor } from "../src/model/tensor-data.js";

const out = process.argv[2] as string;
const external = process.argv[3] === "external";
// 48 MiB of weights: a write takes long enough for a signal to land in the middle of it.
const weight = new Float32Array(12 * 1024 * 1024).map((_, i) => (i % 97) / 97);
const model = {
  irVersion: 8,
  opsetImport: [{ domain: "", version: 13 }],
  graph: {
    name: "g",
    node: [{ name: "id", opType: "Identity", input: ["w"], output: ["y"], attribute: [] }],
    input: [],
    output: [{ name: "y" }],
    initializer: [makeTensor("w", [weight.length], weight)],
    valueInfo: [],
  },
} as unknown as OnnxModel;
for (let i = 0; ; i++) {
  process.stdout.write(`writing ${i}\n`);
  saveModel(model, out, { externalData: external ? "always" : "never" });
  await new Promise((r) => setImmediate(r));
}
