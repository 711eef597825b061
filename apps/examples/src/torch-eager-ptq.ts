// torch eager-mode static PTQ (x86): stubs, fuse conv+bn+relu, prepare, calibrate, convert.
import {
  convert,
  DeQuantStub,
  fuseModules,
  getDefaultQConfig,
  noGrad,
  prepare,
  QuantStub,
  Sequential,
  Tensor,
} from "@zeropoint/torch";
import { accuracy, calibrationBatches } from "./data.js";
import { predict, sharedCnn } from "./torch-model.js";

const model = new Sequential(["quant", new QuantStub()], ["inner", sharedCnn()], ["dequant", new DeQuantStub()]).eval();
fuseModules(model, [
  ["inner.c1", "inner.b1", "inner.r1"],
  ["inner.c2", "inner.b2", "inner.r2"],
  ["inner.l1", "inner.r3"],
]);
prepare(model, getDefaultQConfig("x86"));
noGrad(() => {
  for (const b of calibrationBatches()) model.call(new Tensor(b, [b.length / 784, 1, 28, 28]));
});
convert(model);
console.log(`torch eager static: accuracy ${(await accuracy(predict(model))).toFixed(4)}`);
