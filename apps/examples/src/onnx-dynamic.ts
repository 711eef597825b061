// ONNX dynamic quantization (IntegerOps): int8 weights offline, activations quantized at run time.

import { encodeModel, loadModel, quantizeDynamic } from "@zeropoint/onnx";
import * as ort from "onnxruntime-node";
import { accuracy, sharedPath } from "./data.js";

const { model } = loadModel(sharedPath("models/mlp_fp32.onnx"));
const { model: quantized } = await quantizeDynamic(model, { weightType: "int8" });
const session = await ort.InferenceSession.create(encodeModel(quantized));
const run = async (x: Float32Array, n: number) =>
  ((await session.run({ input: new ort.Tensor("float32", x, [n, 1, 28, 28]) })).logits as ort.Tensor)
    .data as Float32Array;
console.log(`onnx dynamic: accuracy ${(await accuracy(run)).toFixed(4)}`);
