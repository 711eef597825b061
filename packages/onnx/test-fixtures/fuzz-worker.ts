// Fuzz worker: reads cases (one JSON line each) from stdin, quantizes the mutated model and runs the
// result in onnxruntime-node, and answers one JSON line per case. Runs in its own process so that a
// native abort inside onnxruntime cannot take the test process down (the parent notices and fails).
import { createInterface } from "node:readline";
import { ZeropointError } from "@zeropoint/core";
import * as ort from "onnxruntime-node";
import { encodeModel, loadModel, quantizeStatic } from "../src/index.js";
import { sharedModelBytes } from "./mnist-eval.js";
import { mutateStructure } from "./structure-mutations.js";

// A plain copy: Buffer#slice would return views and mutations would pile up across cases.
const original = new Uint8Array(sharedModelBytes("mlp"));
const lines = createInterface({ input: process.stdin });

function mutate(seed: number): Uint8Array {
  let s = seed >>> 0 || 1;
  const rand = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 4294967296;
  };
  const mode = rand();
  if (mode < 0.15) return original.slice(0, Math.floor(rand() * original.length));
  const bytes = original.slice();
  const flips = 1 + Math.floor(rand() * 8);
  for (let i = 0; i < flips; i++) {
    // Most flips hit the graph structure (the first and last kilobytes), some hit weights.
    const r = rand();
    const pos =
      r < 0.45
        ? Math.floor(rand() * 1200)
        : r < 0.9
          ? bytes.length - 1 - Math.floor(rand() * 1200)
          : Math.floor(rand() * bytes.length);
    bytes[pos] = Math.floor(rand() * 256);
  }
  return bytes;
}

const decoded = loadModel(original).model;

for await (const line of lines) {
  const { seed, kind } = JSON.parse(line) as { seed: number; kind?: "bytes" | "structure" };
  let result: Record<string, unknown>;
  try {
    // Byte flips exercise the decoder; structure edits give valid protobuf with wrong semantics.
    const input = kind === "structure" ? encodeModel(mutateStructure(decoded, seed)) : mutate(seed);
    const calibration = [
      { input: { data: new Float32Array(2 * 784).map((_, i) => ((i * 31 + seed) % 97) / 97), dims: [2, 1, 28, 28] } },
    ];
    const { model } = await quantizeStatic(input, {
      calibrationData: () => calibration,
      format: seed % 2 === 0 ? "qdq" : "qoperator",
    });
    const session = await ort.InferenceSession.create(encodeModel(model));
    await session.run({ input: new ort.Tensor("float32", calibration[0]?.input.data as Float32Array, [2, 1, 28, 28]) });
    await session.release();
    result = { seed, outcome: "ran" };
  } catch (error) {
    result = ZeropointError.isInstance(error)
      ? { seed, outcome: "typed-error", code: error.code, message: error.message.slice(0, 200) }
      : { seed, outcome: "untyped-error", message: String((error as Error)?.stack ?? error).slice(0, 500) };
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
