import { mnistSplit, sharedPath } from "@zeropoint/test-helpers";
import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { encodeModel, loadModel } from "../model/model-io.js";
import { irToOnnx } from "./ir-to-onnx.js";
import { onnxToIr } from "./onnx-to-ir.js";

async function logits(bytes: Uint8Array | string, x: Float32Array, n: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes as Uint8Array);
  const out = await session.run({ input: new ort.Tensor("float32", x, [n, 1, 28, 28]) });
  return (Object.values(out)[0] as ort.Tensor).data as Float32Array;
}

describe("ONNX <-> IR", () => {
  for (const name of ["cnn_fp32", "mlp_fp32"]) {
    it(`${name}: ONNX -> IR -> ONNX runs in onnxruntime with the original logits (exactly)`, async () => {
      const path = sharedPath(`models/${name}.onnx`);
      const ir = onnxToIr(loadModel(path).model, name);
      expect(ir.nodes.map((n) => n.op)).toEqual(
        name === "cnn_fp32"
          ? ["conv2d", "relu", "max-pool", "conv2d", "relu", "max-pool", "flatten", "linear", "relu", "linear"]
          : ["flatten", "linear", "relu", "linear", "relu", "linear"],
      );
      const x = mnistSplit("test").images.subarray(0, 64 * 784);
      const original = await logits(path, x, 64);
      const roundTrip = await logits(encodeModel(irToOnnx(ir)), x, 64);
      // Same ops, same weights, same order: onnxruntime computes the same numbers.
      expect(Array.from(roundTrip)).toEqual(Array.from(original));
    });
  }

  it("a model outside the IR names its first unsupported node and op", () => {
    expect(() => onnxToIr(loadModel(sharedPath("models/transformer_fp32.onnx")).model)).toThrow(
      /^node \/Constant \(op Constant\) is outside the IR op set$/,
    );
  });
});
