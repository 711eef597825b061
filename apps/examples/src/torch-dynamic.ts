// torch dynamic quantization: Linear weights int8, activations quantized per call.
import { quantizeDynamic } from "@zeropoint/torch";
import { accuracy } from "./data.js";
import { predict, sharedCnn } from "./torch-model.js";

const model = quantizeDynamic(sharedCnn());
console.log(`torch dynamic: accuracy ${(await accuracy(predict(model))).toFixed(4)}`);
