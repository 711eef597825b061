import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runCli } from "./test-support.js";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };

describe("CLI basics", () => {
  it.each(["quantize", "tune", "inspect", "compare", "matrix", "doctor"])(
    "%s --help prints its usage and examples",
    async (command) => {
      const r = await runCli([command, "--help"]);
      expect(r.code).toBe(0);
      expect(r.out).toContain(`zeropoint ${command}`);
      expect(r.out).toContain("examples:");
      expect(r.out).toContain("exit codes: 0 ok, 1 error");
    },
  );

  it("--version prints the package.json version", async () => {
    const r = await runCli(["--version"]);
    expect(r.out.trim()).toBe(`zeropoint ${pkg.version}`);
  });

  it("under --json an error is JSON on stdout with its code and exit code", async () => {
    const r = await runCli([
      "quantize",
      "/no/such/model.onnx",
      "-o",
      "/tmp/never.onnx",
      "--approach",
      "dynamic",
      "--json",
    ]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toEqual({
      error: { code: "io-error", message: "/no/such/model.onnx: no such file", exitCode: 1 },
    });
    const usage = await runCli(["quantize", "--json"]);
    expect(usage.code).toBe(2);
    expect(JSON.parse(usage.out).error.code).toBe("usage");
  });
});
