import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const app = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const preload = join(app, "test-fixtures/record-cjs-modules.cjs");
const tfjsModel = resolve(app, "../../packages/tfjs/test-fixtures/mnist-cnn/model.json");
const onnxModel = join(app, "assets/mnist-cnn.onnx");
const work = mkdtempSync(join(tmpdir(), "zeropoint-modules-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function loadedModules(args: string[]): string[] {
  const out = join(work, `${args[0]}-${Math.random().toString(36).slice(2)}.json`);
  const r = spawnSync(
    process.execPath,
    ["--require", preload, "--conditions=@zeropoint/source", "--import", "tsx", "src/main.ts", ...args],
    { cwd: app, env: { ...process.env, ZEROPOINT_MODULES_OUT: out }, encoding: "utf8" },
  );
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(readFileSync(out, "utf8")) as string[];
}

describe("adapters load lazily", () => {
  it("zeropoint inspect model.json loads neither protobufjs (@zeropoint/onnx) nor onnxruntime-node", () => {
    const modules = loadedModules(["inspect", tfjsModel, "--json"]);
    expect(modules.filter((m) => m.includes("/protobufjs/"))).toEqual([]);
    expect(modules.filter((m) => m.includes("/onnxruntime-node/"))).toEqual([]);
  });

  it("the check sees them when a command does load the ONNX adapter (so the test can fail)", () => {
    const modules = loadedModules(["inspect", onnxModel, "--json"]);
    expect(modules.some((m) => m.includes("/protobufjs/"))).toBe(true);
  });
});
