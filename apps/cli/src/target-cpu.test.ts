import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "./test-support.js";

const work = mkdtempSync(join(tmpdir(), "zeropoint-target-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const model = new URL("../assets/mnist-cnn.onnx", import.meta.url).pathname;

describe("the target CPU in the CLI", () => {
  it("zeropoint doctor names the kernel the probe confirmed", async () => {
    const r = await runCli(["doctor", "--json"]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(report.requested).toBe("auto");
    expect(typeof report.u8s8Saturates).toBe("boolean");
    expect(report.evidence.probe.exact).toBe(129540);
    expect(report.evidence.probe.saturates).toBe(report.u8s8Saturates);
    const text = await runCli(["doctor"]);
    expect(text.out).toContain(`integer kernel: ${report.kernel}`);
  });

  it("--target-cpu avx2 writes 7-bit weights and says why; --no-reduce-range keeps full range", async () => {
    const avx2 = join(work, "avx2.onnx");
    const r = await runCli([
      "quantize",
      model,
      "-o",
      avx2,
      "--approach",
      "dynamic",
      "--target-cpu",
      "avx2",
      "--no-check-latency",
      "--json",
    ]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(report.target).toMatchObject({ kernel: "x64-avx2", remedy: "reduce-range", automatic: true });
    expect(report.target.reason).toContain("saturates");
    expect(report.latency).toBeNull();
    const kept = await runCli([
      "quantize",
      model,
      "-o",
      join(work, "full.onnx"),
      "--approach",
      "dynamic",
      "--target-cpu",
      "avx2",
      "--no-reduce-range",
      "--json",
    ]);
    expect(kept.code).toBe(0);
    const keptReport = JSON.parse(kept.out);
    expect(keptReport.target.remedy).toBe("kept");
    // The latency check ran by default: a live, interleaved measurement against float.
    expect(keptReport.latency.rounds).toBeGreaterThanOrEqual(10);
    expect(keptReport.latency.speedup).toBeGreaterThan(0);
    expect(readFileSync(avx2).equals(readFileSync(join(work, "full.onnx")))).toBe(false);
  });

  it("an unknown --target-cpu and contradictory range flags are usage errors", async () => {
    const bad = await runCli([
      "quantize",
      model,
      "-o",
      join(work, "x.onnx"),
      "--approach",
      "dynamic",
      "--target-cpu",
      "avx3",
    ]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("--target-cpu must be one of");
    const both = await runCli([
      "quantize",
      model,
      "-o",
      join(work, "y.onnx"),
      "--approach",
      "dynamic",
      "--reduce-range",
      "--no-reduce-range",
    ]);
    expect(both.code).toBe(2);
    expect(both.err).toContain("contradict");
  });
});
