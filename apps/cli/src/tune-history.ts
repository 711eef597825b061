import { createHash } from "node:crypto";
import { appendFileSync, existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type HistoryEntry, ZeropointError } from "@zeropoint/core";

const FORMAT = "zeropoint-tune-history";

/** What a tuning history belongs to: a different model, recipe or data makes its trials meaningless. */
export interface HistoryIdentity {
  readonly model: Uint8Array;
  /** Everything that changes a trial's outcome: recipe, criterion, strategy, target CPU, sample counts. */
  readonly settings: Readonly<Record<string, unknown>>;
  /** Data specs (`mnist:train`, a directory, `random`); directories are fingerprinted by listing. */
  readonly data: readonly string[];
}

function fingerprint(spec: string): string {
  if (!existsSync(spec) || !statSync(spec).isDirectory()) return spec;
  // Names, sizes and modification times: cheap, and any change to the samples changes it.
  const rows = readdirSync(spec, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => {
      const file = join(e.parentPath ?? spec, e.name);
      const st = statSync(file);
      return `${file.slice(spec.length)}:${st.size}:${st.mtimeMs}`;
    })
    .sort();
  return `${spec}\n${rows.join("\n")}`;
}

/** SHA-256 of the model bytes, the settings (keys sorted) and the data fingerprints. */
export function historyDigest(identity: HistoryIdentity): string {
  const hash = createHash("sha256").update(identity.model);
  const settings = Object.keys(identity.settings)
    .sort()
    .map((k) => [k, identity.settings[k]]);
  hash.update(JSON.stringify(settings));
  for (const d of identity.data) hash.update(`\n${fingerprint(d)}`);
  return hash.digest("hex");
}

/**
 * Opens a tuning history (JSON lines) for a run: the first line names the digest of what it belongs
 * to, and a file for another model, recipe or data is refused (`invalid-state`) instead of silently
 * reused. A torn last line (the process was killed mid-write) is dropped and the file rewritten
 * atomically without it, so appending continues on a clean line.
 */
export function openHistory(
  path: string,
  digest: string,
): { entries: HistoryEntry[]; append: (e: HistoryEntry) => void; dropped: boolean } {
  const header = JSON.stringify({ format: FORMAT, version: 1, digest });
  let entries: HistoryEntry[] = [];
  let dropped = false;
  if (existsSync(path) && statSync(path).size > 0) {
    const lines = readFileSync(path, "utf8").split("\n");
    const complete = lines.slice(0, -1); // text after the last newline is incomplete by construction
    const tail = lines[lines.length - 1] ?? "";
    let first: { format?: string; digest?: string } | undefined;
    try {
      first = JSON.parse(complete[0] ?? tail) as { format?: string; digest?: string };
    } catch {
      first = undefined;
    }
    if (first?.format !== FORMAT) {
      throw new ZeropointError(
        "invalid-state",
        `${path} is not a zeropoint tune history (or predates history digests); delete it or pass another --history`,
        { details: { file: path } },
      );
    }
    if (first.digest !== digest) {
      throw new ZeropointError(
        "invalid-state",
        `${path} records a tuning run of another model, recipe or data (digest ${String(first.digest).slice(0, 12)}…, this run ${digest.slice(0, 12)}…); delete it or pass another --history`,
        { details: { file: path } },
      );
    }
    const body = complete.slice(1).filter((l) => l.trim() !== "");
    entries = [];
    for (const [i, line] of body.entries()) {
      try {
        entries.push(JSON.parse(line) as HistoryEntry);
      } catch (cause) {
        throw new ZeropointError("invalid-state", `${path}: line ${i + 2} is not valid JSON`, {
          cause,
          details: { file: path },
        });
      }
    }
    dropped = tail.trim() !== "";
    if (dropped) {
      const tmp = `${path}.tmp-${process.pid}`;
      writeFileSync(tmp, `${[header, ...body].join("\n")}\n`);
      renameSync(tmp, path);
    }
  } else writeFileSync(path, `${header}\n`);
  return { entries, append: (e) => appendFileSync(path, `${JSON.stringify(e)}\n`), dropped };
}
