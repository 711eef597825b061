/**
 * Whether `child` is `parent` or lies below it, for absolute, already resolved paths (callers pass
 * `realpath` results, so symlinks are followed before the question is asked). Pure string logic,
 * for POSIX and Windows separators alike, so core stays free of Node APIs. A sibling that shares a
 * prefix (`/models/a-evil` vs `/models/a`) is outside.
 */
export function isPathInside(parent: string, child: string): boolean {
  const norm = (p: string) => p.replace(/\\/g, "/").replace(/\/+$/, "");
  const base = norm(parent);
  const target = norm(child);
  if (base === "") return target.startsWith("/");
  return target === base || target.startsWith(`${base}/`);
}
