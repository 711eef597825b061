import { main } from "./main.js";

/** Runs the CLI in-process, capturing stdout lines and stderr, for the CLI tests. */
export async function runCli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const lines: string[] = [];
  const errors: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => {
    errors.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    const code = await main(args, (l) => lines.push(l));
    return { code, out: lines.join("\n"), err: errors.join("") };
  } finally {
    process.stderr.write = write;
  }
}
