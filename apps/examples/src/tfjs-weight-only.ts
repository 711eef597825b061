// tfjs weight-only storage: uint8 weights in the manifest, which stock tf.loadLayersModel dequantizes.
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { quantizeWeights, readModelArtifacts } from "@zeropoint/tfjs";
import { accuracy } from "./data.js";
import { loadCnn, predict, TFJS_CNN } from "./tfjs-model.js";

await loadCnn();
const { artifacts, bytesBefore, bytesAfter } = quantizeWeights(readModelArtifacts(TFJS_CNN), { weightType: "uint8" });
const model = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
console.log(
  `tfjs weight-only uint8: ${bytesBefore} -> ${bytesAfter} weight bytes, accuracy ${(await accuracy(predict(model))).toFixed(4)}`,
);
