// ONNX weight-only: int4 MatMulNBits (block 32), weights dequantized inside onnxruntime.

import { encodeModel, loadModel, quantizeWeightOnly } from "@zeropoint/onnx";
import * as ort from "onnxruntime-node";
import { accuracy, sharedPath } from "./data.js";

const { model } = loadModel(sharedPath("models/mlp_fp32.onnx"));
const { model: quantized } = await quantizeWeightOnly(model, { weightType: "int4", blockSize: 32 });
const bytes = encodeModel(quantized);
const session = await ort.InferenceSession.create(bytes);
const run = async (x: Float32Array, n: number) =>
  ((await session.run({ input: new ort.Tensor("float32", x, [n, 1, 28, 28]) })).logits as ort.Tensor)
    .data as Float32Array;
console.log(`onnx weight-only int4: ${bytes.byteLength} bytes, accuracy ${(await accuracy(run)).toFixed(4)}`);
