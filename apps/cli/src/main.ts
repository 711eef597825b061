import type { CliCommand } from "./cli/command.js";
import { cliVersion, commandHelp, HELP } from "./cli/command-help.js";
import { joinNegativeValues } from "./cli/flags.js";
import { errorJson, errorLine, UsageError } from "./errors.js";

/**
 * The commands, each imported only when it runs: `zeropoint inspect model.json` never loads the
 * ONNX adapter, `zeropoint matrix` loads no runtime.
 */
const COMMANDS: Readonly<Record<string, () => Promise<CliCommand>>> = {
  quantize: async () => (await import("./commands/quantize/index.js")).quantizeCommand,
  tune: async () => (await import("./commands/tune/index.js")).tuneCommand,
  inspect: async () => (await import("./commands/inspect/index.js")).inspectCommand,
  compare: async () => (await import("./commands/compare/index.js")).compareCommand,
  matrix: async () => (await import("./commands/matrix/index.js")).matrixCommand,
  doctor: async () => (await import("./commands/doctor/index.js")).doctorCommand,
};

/** Entry point: returns the process exit code (0 ok, 1 error, 2 usage, 3 degraded). Errors print one line on stderr. */
export async function main(
  argv: string[],
  out: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
): Promise<number> {
  try {
    const [command, ...restArgs] = argv;
    if (command === undefined || command === "--help" || command === "-h" || command === "help") {
      out(HELP);
      return 0;
    }
    if (command === "--version" || command === "-v") {
      out(`zeropoint ${cliVersion()}`);
      return 0;
    }
    const load = COMMANDS[command];
    if (load === undefined) throw new UsageError(`unknown command ${command}`);
    const cli = await load();
    if (restArgs.includes("--help") || restArgs.includes("-h")) {
      out(commandHelp(command, cli.examples));
      return 0;
    }
    // --debug (stack traces on errors) is global: every command accepts it.
    return await cli.run(joinNegativeValues(restArgs.filter((a) => a !== "--debug")), out);
  } catch (error) {
    const parseError = (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
    const typed = parseError ? new UsageError((error as Error).message) : error;
    const code = typed instanceof UsageError ? 2 : 1;
    process.stderr.write(`${errorLine(typed)}\n`);
    if (argv.includes("--json")) out(errorJson(typed, code));
    if (argv.includes("--debug") && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    return code;
  }
}

const invokedDirectly = import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith("/src/main.ts");
if (invokedDirectly) process.exitCode = await main(process.argv.slice(2));
