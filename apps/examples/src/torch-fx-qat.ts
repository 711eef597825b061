// torch FX QAT: prepareQatFx on the traced model, train, convertFx.
import { convertFx, getDefaultQatQConfigMapping, prepareQatFx, Tensor } from "@zeropoint/torch";
import { accuracy, calibrationBatches } from "./data.js";
import { predict, sharedCnn } from "./torch-model.js";
import { trainSteps } from "./torch-train.js";

const example = new Tensor((calibrationBatches(1)[0] as Float32Array).slice(0, 784), [1, 1, 28, 28]);
const qat = prepareQatFx(sharedCnn().train(), getDefaultQatQConfigMapping("x86"), example);
trainSteps(qat, 6);
qat.eval();
const converted = convertFx(qat);
console.log(`torch FX QAT: accuracy ${(await accuracy(predict(converted))).toFixed(4)}`);
