/**
 * Cleanup that must run if the process is interrupted (SIGINT, SIGTERM, SIGHUP) while temporary
 * files exist: an atomic writer registers "remove my temp files" before writing and unregisters
 * after its rename. On a signal every registered cleanup runs, then the signal is raised again
 * with no handler left, so the process ends exactly as it would have (exit status 128 + signal).
 *
 * Node runs signal handlers on the event loop, so a signal that arrives during a synchronous
 * write-then-rename is handled after the rename: the output is then complete and nothing is left
 * to remove. A signal during asynchronous work between writes removes the partial files.
 *
 * No Node import: core stays usable in browsers, where there is no `process` and this is a no-op.
 */
type Signal = "SIGINT" | "SIGTERM" | "SIGHUP";
const SIGNALS: readonly Signal[] = ["SIGINT", "SIGTERM", "SIGHUP"];

const cleanups = new Set<() => void>();
let installed = false;

interface ProcessLike {
  on(event: Signal, listener: (signal: Signal) => void): unknown;
  removeListener(event: Signal, listener: (signal: Signal) => void): unknown;
  listenerCount(event: Signal): number;
  kill(pid: number, signal: Signal | 0): unknown;
  pid: number;
}

function processObject(): ProcessLike | undefined {
  const p = (globalThis as { process?: unknown }).process as ProcessLike | undefined;
  return p !== undefined && typeof p.on === "function" && typeof p.kill === "function" ? p : undefined;
}

function onSignal(signal: Signal): void {
  const p = processObject();
  for (const run of [...cleanups]) {
    try {
      run();
    } catch {
      // Best effort: one failing cleanup must not keep the others from running.
    }
  }
  cleanups.clear();
  if (p === undefined) return;
  for (const s of SIGNALS) p.removeListener(s, onSignal);
  installed = false;
  // Re-raise only when nobody else listens: an application's own handler decides what the signal
  // means then, as it would have without us.
  if (p.listenerCount(signal) === 0) p.kill(p.pid, signal);
}

/**
 * Registers a cleanup to run on SIGINT/SIGTERM/SIGHUP; returns the function that unregisters it
 * (call it once the files are renamed into place or removed).
 *
 * The handler stays installed once a writer has used it: removing the last listener while a signal
 * is pending makes Node drop that signal, so a signal that arrived during a synchronous write would
 * be lost instead of ending the process after the write.
 */
export function onInterrupt(cleanup: () => void): () => void {
  const p = processObject();
  if (p === undefined) return () => {};
  cleanups.add(cleanup);
  if (!installed) {
    for (const s of SIGNALS) p.on(s, onSignal);
    installed = true;
  }
  return () => {
    cleanups.delete(cleanup);
  };
}

/**
 * Parses the writer's temp-file naming (`<target>.tmp-<pid>-<random>`): the pid of the process that
 * wrote it, so a later run can remove the leftovers of one that was killed with SIGKILL.
 */
export function tempFileOwner(fileName: string, targetName: string): number | undefined {
  if (!fileName.startsWith(`${targetName}.tmp-`)) return undefined;
  const m = /^(\d+)-[a-z0-9]+$/.exec(fileName.slice(targetName.length + 5));
  return m ? Number(m[1]) : undefined;
}

/**
 * Of the file names in a directory, the temp files of these targets whose writer process is gone
 * (killed with SIGKILL, which no handler sees): safe to remove before the next write.
 */
export function staleTempFiles(names: readonly string[], targets: readonly string[]): string[] {
  const p = processObject();
  if (p === undefined) return [];
  const alive = (pid: number): boolean => {
    try {
      p.kill(pid, 0);
      return true;
    } catch (e) {
      // EPERM: the process exists but belongs to someone else.
      return (e as { code?: string }).code === "EPERM";
    }
  };
  return names.filter((name) =>
    targets.some((target) => {
      const pid = tempFileOwner(name, target);
      return pid !== undefined && pid !== p.pid && !alive(pid);
    }),
  );
}
