import { parseArgs } from "node:util";
import type { CliCommand } from "../../cli/command.js";
import { parseInputShapes, positiveInt } from "../../cli/flags.js";
import { UsageError } from "../../errors.js";
import { runCompare } from "./run-compare.js";

/** Flags of `zeropoint compare`. */
export const options = {
  "calib-data": { type: "string" },
  samples: { type: "string" },
  "eval-data": { type: "string" },
  "eval-samples": { type: "string" },
  out: { type: "string" },
  recipe: { type: "string" },
  "input-shape": { type: "string", multiple: true },
  json: { type: "boolean" },
} as const;

/** `zeropoint compare <model>`: every registered adapter's builds of one model, measured on the same data. */
export const compareCommand: CliCommand = {
  name: "compare",
  examples: `examples:
  zeropoint compare model.onnx --calib-data mnist:train --eval-data mnist --out report.html`,
  async run(args, out) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options });
    if (positionals.length !== 1) throw new UsageError("compare takes one model");
    const report = await runCompare(
      {
        model: positionals[0] as string,
        calibData: values["calib-data"] ?? "mnist:train",
        samples: positiveInt("samples", values.samples, 256),
        evalData: values["eval-data"] ?? "mnist",
        // Bounded by default: `--eval-data random` has no natural end (it once grew to 24 GB).
        evalSamples: positiveInt("eval-samples", values["eval-samples"], 2000),
        out: values.out,
        recipe: values.recipe,
        inputShapes: parseInputShapes(values["input-shape"]),
        json: values.json === true,
      },
      out,
    );
    if (values.json) out(JSON.stringify(report, null, 2));
    return 0;
  },
};
