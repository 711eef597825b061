/** Renders rows as an aligned text table. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? "").length)));
  // Numbers align right, text left.
  const numeric = (v: string) => /^[-+]?[\d.,]+( ?(dB|%|s|x))?$|^∞$/.test(v);
  const line = (r: string[]) =>
    r
      .map((v, c) => (c > 0 && numeric(v) ? v.padStart(widths[c] as number) : v.padEnd(widths[c] as number)))
      .join("  ")
      .trimEnd();
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...cells.slice(1).map(line)].join("\n");
}

/** Human-readable byte size. */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} kB`;
  return `${(n / 1024 / 1024).toFixed(2)} MB`;
}

/** dB with two decimals, or ∞. */
export function db(x: number): string {
  return Number.isFinite(x) ? x.toFixed(2) : "∞";
}
