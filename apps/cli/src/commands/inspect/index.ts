import { parseArgs } from "node:util";
import type { CliCommand } from "../../cli/command.js";
import { UsageError } from "../../errors.js";
import { runInspect } from "./run-inspect.js";

/** Flags of `zeropoint inspect`. */
export const options = { json: { type: "boolean" }, "allow-dir": { type: "string", multiple: true } } as const;

/** `zeropoint inspect <model>`: what the model holds and what each approach would quantize. */
export const inspectCommand: CliCommand = {
  name: "inspect",
  examples: `examples:
  zeropoint inspect model.onnx
  zeropoint inspect tfjs-model/model.json --json`,
  async run(args, out) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options });
    if (positionals.length !== 1) throw new UsageError("inspect takes one model path");
    const report = await runInspect(positionals[0] as string, values.json === true, out, values["allow-dir"] ?? []);
    if (values.json) out(JSON.stringify(report, null, 2));
    return 0;
  },
};
