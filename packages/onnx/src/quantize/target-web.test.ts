import { mnistSplit } from "@zeropoint/test-helpers";
import * as ortWeb from "onnxruntime-web";
import { describe, expect, it } from "vitest";
import { encodeModel, mnistCalibration, predict, sharedModelBytes } from "../../test-fixtures/mnist-eval.js";
import { quantizeDynamic } from "./quantize-dynamic.js";
import { quantizeStatic } from "./quantize-static.js";

ortWeb.env.wasm.numThreads = 1;

async function predictWeb(bytes: Uint8Array, count: number): Promise<Uint8Array> {
  const test = mnistSplit("test");
  const session = await ortWeb.InferenceSession.create(bytes, { executionProviders: ["wasm"] });
  try {
    const out = await session.run({
      input: new ortWeb.Tensor("float32", test.images.slice(0, count * 784), [count, 1, 28, 28]),
    });
    const logits = (out.logits as ortWeb.Tensor).data as Float32Array;
    return Uint8Array.from({ length: count }, (_, i) => {
      let best = 0;
      for (let k = 1; k < 10; k++) if ((logits[i * 10 + k] as number) > (logits[i * 10 + best] as number)) best = k;
      return best;
    });
  } finally {
    await session.release();
  }
}

// Acceptance (issue 3): --target web outputs run in onnxruntime-web's wasm backend under Node with the
// same top-1 as onnxruntime-node on the first 256 test images.
describe.each(["cnn", "mlp", "transformer"])("--target web: %s_fp32.onnx", (name) => {
  for (const [label, make] of [
    [
      "static QDQ",
      () =>
        quantizeStatic(sharedModelBytes(name), {
          calibrationData: () => mnistCalibration(),
          perChannel: true,
          target: "web",
        }),
    ],
    [
      "static QOperator",
      () =>
        quantizeStatic(sharedModelBytes(name), {
          calibrationData: () => mnistCalibration(),
          format: "qoperator",
          target: "web",
        }),
    ],
    ["dynamic", () => quantizeDynamic(sharedModelBytes(name), { perChannel: true })],
  ] as const) {
    it(`${label}: onnxruntime-web (wasm) agrees with onnxruntime-node on 256 images`, async () => {
      const { model } = await make();
      const bytes = encodeModel(model);
      if (label === "static QDQ") {
        const int32 = new Set(model.graph?.initializer.filter((t) => t.dataType === 6).map((t) => t.name));
        const biasDq = model.graph?.node.filter((n) => n.opType === "DequantizeLinear" && int32.has(n.input[0])) ?? [];
        if (name !== "transformer") expect(biasDq.length).toBeGreaterThan(0);
        for (const n of biasDq) expect(n.input).toHaveLength(2);
      }
      const web = await predictWeb(bytes, 256);
      const node = await predict(bytes, 256);
      expect(Array.from(web)).toEqual(Array.from(node));
    });
  }
});
