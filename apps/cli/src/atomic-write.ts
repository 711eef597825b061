import { randomBytes } from "node:crypto";
import { renameSync, rmSync, writeFileSync } from "node:fs";
import { onInterrupt, ZeropointError } from "@zeropoint/core";

/**
 * Writes a report, plan or parameter file atomically: a temp file beside it (`<path>.tmp-<pid>-<id>`,
 * the naming the adapters' writers use, so a later run can tell a killed writer's leftovers), then
 * a rename. A failure or SIGINT/SIGTERM removes the temp file; the target is never half-written.
 */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  const unregister = onInterrupt(() => rmSync(tmp, { force: true }));
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (cause) {
    rmSync(tmp, { force: true });
    throw new ZeropointError("io-error", `cannot write ${path}: ${(cause as Error).message}`, {
      cause,
      details: { file: path },
    });
  } finally {
    unregister();
  }
}
