import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const script = fileURLToPath(new URL("../../test-fixtures/write-artifacts.ts", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "zeropoint-tfjs-full-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("writeModelArtifacts on a full disk", () => {
  it("a shard write that fails half-way (file-size limit: EFBIG, like ENOSPC) leaves no temp shard and no model.json", async () => {
    const out = join(work, "out");
    // 100 blocks = 51,200 bytes: the 828 KB shard is cut off mid-write.
    const child = spawn(
      "sh",
      [
        "-c",
        `ulimit -f 100; exec "${process.execPath}" --conditions=@zeropoint/source --import tsx "${script}" "${out}"`,
      ],
      {
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    const code = await new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
    expect(code).not.toBe(0);
    expect(stderr).toContain("io-error");
    expect(existsSync(out)).toBe(true);
    expect(readdirSync(out)).toEqual([]);
  }, 60_000);
});
