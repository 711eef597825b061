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
