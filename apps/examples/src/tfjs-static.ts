// tfjs static PTQ (emulated int8): fold BN, calibrate, fake-quantize; then the integer executor.
import { IntegerExecutor, quantizeStatic } from "@zeropoint/tfjs";
import { accuracy, calibrationBatches } from "./data.js";
import { loadCnn, predict } from "./tfjs-model.js";

const { model, parameters } = await quantizeStatic(await loadCnn(), { calibration: calibrationBatches() });
const executor = IntegerExecutor.fromModel(parameters, model);
const integer = (x: Float32Array, n: number) =>
  executor.run(x, [n, 28, 28, 1]).outputs.get(parameters.outputs[0] as string)?.data as Float32Array;
console.log(
  `tfjs static (emulated): accuracy ${(await accuracy(predict(model))).toFixed(4)}, integer executor ${(await accuracy(integer)).toFixed(4)}`,
);
