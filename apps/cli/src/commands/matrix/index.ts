import { parseArgs } from "node:util";
import type { CliCommand } from "../../cli/command.js";
import { oneOf } from "../../cli/flags.js";
import { UsageError } from "../../errors.js";
import { runMatrix } from "./run-matrix.js";

/** Flags of `zeropoint matrix`. */
export const options = { format: { type: "string" }, results: { type: "string" } } as const;

/** `zeropoint matrix`: the support matrix, each cell with the evidence of the test that verified it. */
export const matrixCommand: CliCommand = {
  name: "matrix",
  examples: `examples:
  zeropoint matrix --format md`,
  async run(args, out) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options });
    if (positionals.length !== 0) throw new UsageError("matrix takes no positional arguments");
    await runMatrix(oneOf("format", values.format, ["md", "json", "html"] as const, "md"), values.results, out);
    return 0;
  },
};
