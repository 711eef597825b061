// torch eager QAT: fuse for QAT, prepareQat (fake quantization, BN folded into the weight), train, convert.
import {
  convert,
  DeQuantStub,
  fuseModulesQat,
  getDefaultQatQConfig,
  prepareQat,
  QuantStub,
  Sequential,
} from "@zeropoint/torch";
import { accuracy } from "./data.js";
import { predict, sharedCnn } from "./torch-model.js";
import { trainSteps } from "./torch-train.js";

const model = new Sequential(
  ["quant", new QuantStub()],
  ["inner", sharedCnn()],
  ["dequant", new DeQuantStub()],
).train();
fuseModulesQat(model, [
  ["inner.c1", "inner.b1", "inner.r1"],
  ["inner.c2", "inner.b2", "inner.r2"],
  ["inner.l1", "inner.r3"],
]);
prepareQat(model, getDefaultQatQConfig("x86"));
trainSteps(model, 6);
model.eval();
convert(model);
console.log(`torch eager QAT: accuracy ${(await accuracy(predict(model))).toFixed(4)}`);
