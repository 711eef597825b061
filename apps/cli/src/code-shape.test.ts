import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const src = resolve(dirname(fileURLToPath(import.meta.url)));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith(".ts") && !p.endsWith(".test.ts") && !p.endsWith(".d.ts") ? [p] : [];
  });
}

/** Every function (declaration, method, arrow, expression) longer than `limit` lines. */
function longFunctions(limit: number): string[] {
  const long: string[] = [];
  for (const file of sources(src)) {
    const sf = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
    const visit = (n: ts.Node): void => {
      if (ts.isFunctionLike(n) && "body" in n && n.body !== undefined) {
        const first = sf.getLineAndCharacterOfPosition(n.getStart()).line;
        const last = sf.getLineAndCharacterOfPosition(n.getEnd()).line;
        if (last - first + 1 > limit) long.push(`${relative(src, file)}:${first + 1} (${last - first + 1} lines)`);
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  return long;
}

describe("the CLI's code shape (issue 14)", () => {
  it("no function in apps/cli/src is longer than 80 lines", () => {
    expect(longFunctions(80)).toEqual([]);
  });
  it("the check sees long functions (so it can fail)", () => {
    expect(longFunctions(30).length).toBeGreaterThan(0);
  });
  it("compare/compare.ts, the loop over adapters, is at most 200 lines", () => {
    const lines = readFileSync(join(src, "compare/compare.ts"), "utf8").split("\n").length;
    expect(lines).toBeLessThanOrEqual(200);
  });
});
