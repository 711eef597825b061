import { UsageError } from "../../errors.js";
import { bytes, table } from "../../report.js";

/** `--max-size`: a ratio of the all-int4 size or an absolute size of the whole model. */
export type MaxSize = { readonly ratio: number } | { readonly bytes: number };

const UNITS: Readonly<Record<string, number>> = {
  "": 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 1024,
  mib: 2 ** 20,
  gib: 2 ** 30,
};

/**
 * Parses `--max-size`: `1.25x` (of the all-int4 model, the default budget) or a size of the whole
 * written model, `300kB`, `12MB`, `1.5GiB` or plain bytes (decimal units are powers of 1000).
 */
export function parseMaxSize(text: string): MaxSize {
  const ratio = /^(\d+(?:\.\d+)?)x$/i.exec(text.trim());
  if (ratio) {
    const r = Number(ratio[1]);
    if (!(r >= 1)) throw new UsageError(`--max-size ${text}: a ratio of the all-int4 size must be >= 1`);
    return { ratio: r };
  }
  const size = /^(\d+(?:\.\d+)?)\s*([kmg]i?b|b)?$/i.exec(text.trim());
  const unit = UNITS[(size?.[2] ?? "").toLowerCase()];
  if (!size || unit === undefined)
    throw new UsageError(`--max-size expects a ratio like 1.25x or a size like 12MB, got ${text}`);
  return { bytes: Math.floor(Number(size[1]) * unit) };
}

/** The per-layer choice of a mixed-precision run, as a table. */
export function mixedLayerTable(
  layers: readonly { name: string; opType: string; bits: number; bytes: number; baseError: number; error: number }[],
): string {
  return table(
    ["layer", "op", "kept at", "int4 rel. error", "rel. error", "bytes"],
    layers.map((l) => [
      l.name,
      l.opType,
      l.bits === 16 ? "float" : l.bits === 8 ? "8-bit" : "int4",
      l.baseError.toExponential(2),
      l.error.toExponential(2),
      bytes(l.bytes),
    ]),
  );
}
