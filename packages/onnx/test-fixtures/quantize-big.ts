// Child process for the big-model test: loads <model> with lazy external data, writes one
// transformers.js preset to <output>, and prints {seconds, maxRssBytes, written} as JSON. A separate
// process, so its peak RSS is the quantizer's alone.
import { loadModel, saveModel } from "../src/model/model-io.js";
import { quantizePreset } from "../src/presets/transformers-js-presets.js";

const [input, output, preset, method] = process.argv.slice(2) as [string, string, "q4" | "q8", string | undefined];
const started = performance.now();
const { model } = loadModel(input, { externalData: "lazy" });
const { model: quantized } = await quantizePreset(model, preset, method ? { int4Method: method as "rtn" } : {});
// The input kept its weights in a data file; so does the output (no protobuf of the whole model in memory).
const written = saveModel(quantized, output, { externalData: "always" });
process.stdout.write(
  JSON.stringify({
    seconds: (performance.now() - started) / 1000,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    written,
  }),
);
