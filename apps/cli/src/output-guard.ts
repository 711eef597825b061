import { existsSync, realpathSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { UsageError } from "./errors.js";

/** The real path of a file that may not exist yet: its directory's real path plus its name. */
function realTarget(path: string): string {
  const absolute = resolve(path);
  if (existsSync(absolute)) return realpathSync(absolute);
  const parent = dirname(absolute);
  return existsSync(parent) ? resolve(realpathSync(parent), basename(absolute)) : absolute;
}

/**
 * Refuses an output path that would overwrite what a command reads: the input model itself, or a
 * file it references (external data, weight shards), compared after following symlinks, so
 * `-o link-to-input.onnx` is caught as well as `-o input.onnx`. `outputs` are every file the
 * command writes (model, `.data`, plan, report, history).
 */
export function assertOutputsSafe(
  inputs: readonly string[],
  outputs: readonly { readonly flag: string; readonly path: string }[],
): void {
  const protectedFiles = new Map<string, string>();
  for (const input of inputs) if (existsSync(input)) protectedFiles.set(realTarget(input), input);
  for (const { flag, path } of outputs) {
    const target = realTarget(path);
    const hit = protectedFiles.get(target);
    if (hit !== undefined) {
      throw new UsageError(`${flag} ${path} would overwrite ${hit}, which this command reads; choose another path`);
    }
  }
}

/**
 * For directory outputs (tfjs): the output directory must not be the input model's directory after
 * symlinks, or writing model.json and shards there would replace the input model.
 */
export function assertOutputDirectorySafe(inputModelDir: string, outputDir: string, flag = "-o"): void {
  if (!existsSync(outputDir)) return;
  if (realpathSync(outputDir) === realpathSync(inputModelDir)) {
    throw new UsageError(
      `${flag} ${outputDir} is the input model's directory (after symlinks); choose another directory`,
    );
  }
}
