import { ZeropointError } from "@zeropoint/core";

/** A CLI usage problem (bad flags); exits with code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** Formats any error as the one line the CLI prints. */
export function errorLine(error: unknown): string {
  if (ZeropointError.isInstance(error))
    return `zeropoint: error [${error.code}]: ${error.message.split("\n").join("; ")}`;
  if (error instanceof UsageError) return `zeropoint: ${error.message} (see zeropoint --help)`;
  return `zeropoint: unexpected error: ${(error as Error)?.message ?? String(error)}`;
}

/** The error as JSON, for `--json` runs: what a script reads instead of parsing the line. */
export function errorJson(error: unknown, exitCode: number): string {
  const base = ZeropointError.isInstance(error)
    ? { code: error.code, message: error.message }
    : error instanceof UsageError
      ? { code: "usage", message: error.message }
      : { code: "unexpected", message: (error as Error)?.message ?? String(error) };
  return JSON.stringify({ error: { ...base, exitCode } });
}
