import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const pkg = resolve(dirname(fileURLToPath(import.meta.url)), "..");

describe("README example", () => {
  it("runs as written", () => {
    const code = /```ts\n([\s\S]*?)```/.exec(readFileSync(join(pkg, "README.md"), "utf8"))?.[1];
    expect(code).toBeDefined();
    const dir = mkdtempSync(join(pkg, ".readme-example-"));
    try {
      const file = join(dir, "example.ts");
      writeFileSync(file, code as string);
      const out = execFileSync(process.execPath, ["--conditions=@zeropoint/source", "--import", "tsx", file], {
        cwd: pkg,
        encoding: "utf8",
        env: { ...process.env, MODEL: resolve(pkg, "../../apps/cli/assets/mnist-cnn.onnx") },
        stdio: ["ignore", "pipe", "ignore"],
      });
      expect(out).toMatch(/quantized nodes: 7 logits SQNR: \d+\.\d dB/);
      expect(out).toMatch(/written: \d+ bytes/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
