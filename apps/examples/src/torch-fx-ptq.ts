// torch FX graph-mode static PTQ: trace, prepareFx with the x86 QConfigMapping, calibrate, convertFx.
import { convertFx, getDefaultQConfigMapping, noGrad, prepareFx, Tensor } from "@zeropoint/torch";
import { accuracy, calibrationBatches } from "./data.js";
import { predict, sharedCnn } from "./torch-model.js";

const batches = calibrationBatches();
const prepared = prepareFx(
  sharedCnn(),
  getDefaultQConfigMapping("x86"),
  new Tensor((batches[0] as Float32Array).slice(0, 784), [1, 1, 28, 28]),
);
noGrad(() => {
  for (const b of batches) prepared.call(new Tensor(b, [b.length / 784, 1, 28, 28]));
});
const converted = convertFx(prepared);
console.log(`torch FX static: accuracy ${(await accuracy(predict(converted))).toFixed(4)}`);
