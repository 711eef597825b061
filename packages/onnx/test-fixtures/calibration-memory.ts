// Child process for the calibration-memory test: statically quantizes the shared CNN with `samples`
// MNIST calibration images (batches of 32, generated on demand) and prints the peak RSS in bytes.
import type { CalibrationMethod } from "@zeropoint/core";
import { mnistSplit } from "@zeropoint/test-helpers";
import { quantizeStatic } from "../src/index.js";
import { sharedModelBytes } from "./mnist-eval.js";

const [method, samplesArg] = process.argv.slice(2) as [CalibrationMethod, string];
const samples = Number(samplesArg);
const train = mnistSplit("train");
const batch = 32;
function* source() {
  // A fresh view per batch; nothing is retained by the source itself.
  for (let start = 0; start < samples; start += batch) {
    const offset = start % (train.count - batch);
    yield { input: { data: train.images.subarray(offset * 784, (offset + batch) * 784), dims: [batch, 1, 28, 28] } };
  }
}
await quantizeStatic(sharedModelBytes("cnn"), { calibrationData: source, calibrationMethod: method, perChannel: true });
process.stdout.write(String(process.resourceUsage().maxRSS * 1024));
