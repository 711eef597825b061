import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { loadModel, saveModel } from "./model-io.js";
import type { OnnxModel } from "./onnx-schema.js";
import { makeTensor } from "./tensor-data.js";

const writer = fileURLToPath(new URL("../../test-fixtures/interrupt-writer.ts", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "zeropoint-interrupt-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const temps = (dir: string) => readdirSync(dir).filter((f) => f.includes(".tmp-"));

/**
 * Starts the writer and sends `signal` the moment a temp file of write number `writes` exists, i.e.
 * in the middle of a write (a default-action signal would leave that temp file behind).
 */
async function interrupt(dir: string, signal: NodeJS.Signals, writes: number, external: boolean) {
  const child = spawn(
    process.execPath,
    [
      "--conditions=@zeropoint/source",
      "--import",
      "tsx",
      writer,
      join(dir, "m.onnx"),
      external ? "external" : "inline",
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, sig) => resolve({ code, signal: sig })),
  );
  let seen = 0;
  child.stdout.on("data", (chunk: Buffer) => {
    seen += chunk
      .toString()
      .split("\n")
      .filter((l) => l.startsWith("writing")).length;
  });
  const started = Date.now();
  let caught = false;
  while (Date.now() - started < 30_000) {
    if (seen >= writes && temps(dir).length > 0) {
      child.kill(signal);
      caught = true;
      break;
    }
    await new Promise((r) => setTimeout(r, 0));
  }
  if (!caught) child.kill("SIGKILL");
  return { ...(await exited), caught };
}

describe("interrupted saves leave no temp files and no partial model", () => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    for (const [writes, external] of [
      [1, false],
      [2, false],
      [1, true],
      [2, true],
    ] as const) {
      it(`${signal} in the middle of write ${writes} (${external ? "external data" : "inline"})`, async () => {
        const dir = mkdtempSync(join(work, "run-"));
        const exit = await interrupt(dir, signal, writes, external);
        // The signal really landed while a temp file existed.
        expect(exit.caught).toBe(true);
        // The process still ends by the signal (the handler re-raises it).
        expect(exit.signal).toBe(signal);
        expect(temps(dir)).toEqual([]);
        const out = join(dir, "m.onnx");
        if (existsSync(out)) expect(loadModel(out).model.graph?.initializer[0]?.name).toBe("w");
      }, 60_000);
    }
  }

  it("a write that fails half-way (a file-size limit, as a full disk: EFBIG like ENOSPC) leaves no temp file and no output", async () => {
    const dir = mkdtempSync(join(work, "full-"));
    const child = spawn(
      "sh",
      [
        "-c",
        `ulimit -f 2000; exec "${process.execPath}" --conditions=@zeropoint/source --import tsx "${writer}" "${join(dir, "m.onnx")}" external`,
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    const code = await new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
    expect(code).not.toBe(0);
    expect(stderr).toContain("io-error");
    expect(stderr).toContain("EFBIG");
    expect(temps(dir)).toEqual([]);
    expect(existsSync(join(dir, "m.onnx"))).toBe(false);
  }, 60_000);

  it("SIGKILL may leave a temp file; the next save to the same path removes it", async () => {
    const dir = mkdtempSync(join(work, "kill-"));
    // A temp file of a process that no longer exists, as SIGKILL leaves it.
    const dead = spawn(process.execPath, ["-e", ""]);
    await new Promise((r) => dead.once("exit", r));
    const stale = join(dir, `m.onnx.tmp-${dead.pid}-abc123`);
    const staleData = join(dir, `m.onnx.data.tmp-${dead.pid}-abc123`);
    writeFileSync(stale, "partial");
    writeFileSync(staleData, "partial");
    // One of a live process (this one's parent) is not touched.
    const live = join(dir, `m.onnx.tmp-${process.ppid}-def456`);
    writeFileSync(live, "in progress elsewhere");
    const model = {
      irVersion: 8,
      opsetImport: [{ domain: "", version: 13 }],
      graph: {
        name: "g",
        node: [{ name: "id", opType: "Identity", input: ["w"], output: ["y"], attribute: [] }],
        input: [],
        output: [{ name: "y" }],
        initializer: [makeTensor("w", [4], Float32Array.of(1, 2, 3, 4))],
        valueInfo: [],
      },
    } as unknown as OnnxModel;
    saveModel(model, join(dir, "m.onnx"));
    expect(temps(dir)).toEqual([`m.onnx.tmp-${process.ppid}-def456`]);
  });
});
