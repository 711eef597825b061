import { parseArgs } from "node:util";
import type { CliCommand } from "../../cli/command.js";
import { UsageError } from "../../errors.js";
import { runDoctor } from "./run-doctor.js";

/** Flags of `zeropoint doctor`. */
export const options = { json: { type: "boolean" } } as const;

/** `zeropoint doctor`: this machine's integer kernel as onnxruntime runs it. */
export const doctorCommand: CliCommand = {
  name: "doctor",
  examples: `examples:
  zeropoint doctor
  zeropoint doctor --json`,
  async run(args, out) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options });
    if (positionals.length !== 0) throw new UsageError("doctor takes no positional arguments");
    const report = await runDoctor(values.json === true, out);
    if (values.json) out(JSON.stringify(report, null, 2));
    return 0;
  },
};
