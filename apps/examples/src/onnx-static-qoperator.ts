// ONNX static PTQ, QOperator format (QLinearConv, QLinearMatMul): calibrate on 256 MNIST images, per-channel int8 weights, uint8 activations.

import { calibrationSourceFromBatches, encodeModel, loadModel, quantizeStatic } from "@zeropoint/onnx";
import * as ort from "onnxruntime-node";
import { accuracy, calibrationBatches, sharedPath } from "./data.js";

const { model } = loadModel(sharedPath("models/cnn_fp32.onnx"));
const calibrationData = calibrationSourceFromBatches(
  calibrationBatches().map((data) => ({ input: { data, dims: [data.length / 784, 1, 28, 28] } })),
);
const { model: quantized } = await quantizeStatic(model, { format: "qoperator", perChannel: true, calibrationData });
const session = await ort.InferenceSession.create(encodeModel(quantized));
const run = async (x: Float32Array, n: number) =>
  ((await session.run({ input: new ort.Tensor("float32", x, [n, 1, 28, 28]) })).logits as ort.Tensor)
    .data as Float32Array;
console.log(`onnx static QOperator: accuracy ${(await accuracy(run)).toFixed(4)}`);
