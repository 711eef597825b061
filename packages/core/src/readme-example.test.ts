import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const pkg = resolve(dirname(fileURLToPath(import.meta.url)), "..");

describe("README example", () => {
  it("runs as written and prints a result per observer and convention", () => {
    const readme = readFileSync(join(pkg, "README.md"), "utf8");
    const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(code).toBeDefined();
    const dir = mkdtempSync(join(pkg, ".readme-example-"));
    try {
      const file = join(dir, "example.ts");
      writeFileSync(file, code as string);
      const out = execFileSync(process.execPath, ["--conditions=@zeropoint/source", "--import", "tsx", file], {
        cwd: pkg,
        encoding: "utf8",
      });
      expect(out).toMatch(/^histogram range/m);
      expect(out).toMatch(/^entropy range/m);
      expect(out).toMatch(/SQNR \d+\.\d dB/);
      expect(out.match(/^(pytorch|onnxruntime|tflite) 0\.\d+/gm)).toHaveLength(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
