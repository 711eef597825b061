import type { parseArgs } from "node:util";

/**
 * One CLI command: what `commands/<name>/index.ts` exports. `main` looks commands up by name and
 * imports each lazily, so running one never loads another's dependencies.
 */
export interface CliCommand {
  readonly name: string;
  /** The `examples:` block of `zeropoint <name> --help`. */
  readonly examples: string;
  /** Parses the command's arguments and runs it; returns the exit code (0 ok, 1 error, 2 usage, 3 degraded). */
  run(args: string[], out: (line: string) => void): Promise<number>;
}

/** The parsed flag values of a command's parseArgs `options`. */
export type ParsedValues<O extends NonNullable<Parameters<typeof parseArgs>[0]>["options"]> = ReturnType<
  typeof parseArgs<{ args: string[]; allowPositionals: true; options: O }>
>["values"];
