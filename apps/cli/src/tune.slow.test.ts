import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { FORMAT_CANDIDATES, loadModel, modelDigest, readCpuFeatures, resolveCpuTarget } from "@zeropoint/onnx";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "./main.js";

const app = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const model = join(app, "assets/mnist-cnn.onnx");
const recorded = resolve(app, "../../packages/onnx/test-fixtures/profiles/cnn.json");
const work = mkdtempSync(join(tmpdir(), "zeropoint-tune-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
// The recorded profile seeds the per-node search only on the CPU and onnxruntime it was recorded
// with; the tests stamp it as this machine's so the per-node plan is repeatable between runs (the
// resume test compares two runs). Every latency the tune reports is still measured live.
const profile = join(work, "cnn-here.json");
beforeAll(async () => {
  const target = await resolveCpuTarget("auto");
  const stamped = {
    ...JSON.parse(readFileSync(recorded, "utf8")),
    model: modelDigest(loadModel(model).model),
    cpu: readCpuFeatures().model,
    onnxruntime: target.onnxruntimeVersion,
  };
  writeFileSync(profile, JSON.stringify(stamped));
});
const args = (out: string, history: string) => [
  "tune",
  model,
  "-o",
  out,
  "--calib-data",
  "mnist:train",
  "--eval-data",
  "mnist:test-even",
  "--max-loss",
  "0.5%",
  "--latency-profile",
  profile,
  "--history",
  history,
  "--latency-budget",
  "5s",
  "--json",
];

async function run(argv: string[]): Promise<{ code: number; report: Record<string, unknown> }> {
  const lines: string[] = [];
  const code = await main(argv, (l) => lines.push(l));
  return { code, report: JSON.parse(lines.join("\n")) };
}

describe("zeropoint tune", () => {
  it("writes the model, a plan that zeropoint quantize --plan re-applies, and the sensitivity page", async () => {
    const out = join(work, "cnn.tuned.onnx");
    const { code, report } = await run(args(out, join(work, "h1.jsonl")));
    // The per-node plan: float convolutions (much slower in int8 in the seeding profile).
    expect(report.floatNodes).toEqual(expect.arrayContaining(["/c1/Conv", "/c2/Conv"]));
    expect((report.perNode as { status: string }).status).toBe("met");
    // The approach × format search measured every passing candidate live.
    const formats = report.formats as { id: string; passed: boolean; speed?: { speedup: number; rounds: number } }[];
    expect(formats.map((f) => f.id)).toEqual([...FORMAT_CANDIDATES]);
    for (const f of formats) if (f.passed) expect(f.speed?.rounds).toBeGreaterThanOrEqual(10);
    const html = readFileSync(`${out}.sensitivity.html`, "utf8");
    expect(html).toContain('<svg id="sensitivity-chart"');
    for (const n of ["/c1/Conv", "/c2/Conv", "/l1/Gemm", "/l2/Gemm"]) expect(html).toContain(n);
    const best = Math.max(...formats.filter((f) => f.passed).map((f) => f.speed?.speedup ?? 0));
    if (best < 1) {
      // Nothing that meets the criterion is at least as fast as float on this CPU: nothing is written.
      expect(code).toBe(3);
      expect(report.chosen).toBeNull();
      expect(report.message).toContain("at least as fast as float");
      expect(existsSync(out)).toBe(false);
      return;
    }
    expect(code).toBe(0);
    expect(report.status).toBe("met");
    expect((report.holdout as { spec: string }).spec).toBe("mnist:test-odd");
    // The fastest passing candidate, never one slower than float.
    const chosen = report.chosen as { id: string; speed: { speedup: number } };
    expect(chosen.speed.speedup).toBe(best);
    const again = join(work, "cnn.replanned.onnx");
    const lines: string[] = [];
    const approach = chosen.id.startsWith("static")
      ? "static"
      : chosen.id.startsWith("dynamic")
        ? "dynamic"
        : "weight-only";
    const replan = await main(
      [
        "quantize",
        model,
        "-o",
        again,
        "--approach",
        approach,
        ...(chosen.id === "static-qoperator" ? ["--format", "qoperator"] : []),
        "--calib-data",
        "mnist:train",
        "--plan",
        `${out}.plan.json`,
        "--no-check-latency",
        "--json",
      ],
      (l) => lines.push(l),
    );
    expect(replan).toBe(0);
    expect(readFileSync(again).equals(readFileSync(out))).toBe(true);
  });

  it("resumes: a killed run restarted with the same history skips finished trials", async () => {
    const history = join(work, "h2.jsonl");
    const out = join(work, "cnn.resumed.onnx");
    // Start a run in a child process and kill it once a few trials are recorded.
    const child = spawn(
      process.execPath,
      ["--conditions=@zeropoint/source", "--import", "tsx", "src/main.ts", ...args(out, history)],
      {
        cwd: app,
        stdio: "ignore",
      },
    );
    const recorded = () =>
      existsSync(history)
        ? readFileSync(history, "utf8")
            .split("\n")
            .filter((l) => l !== "" && !l.includes('"zeropoint-tune-history"')).length
        : 0;
    await new Promise<void>((resolveWait, reject) => {
      const started = Date.now();
      const timer = setInterval(() => {
        if (recorded() >= 4) {
          clearInterval(timer);
          child.kill("SIGKILL");
          resolveWait();
        } else if (Date.now() - started > 120_000) {
          clearInterval(timer);
          child.kill("SIGKILL");
          reject(new Error("the tuning run recorded no trials"));
        }
      }, 20);
    });
    await new Promise((r) => child.once("exit", r));
    const before = recorded();
    expect(before).toBeGreaterThanOrEqual(4);
    expect(existsSync(out)).toBe(false);
    const { code, report } = await run(args(out, history));
    // Exit 0 with a model, or 3 when nothing passing is at least as fast as float on this CPU.
    expect(code).toBe(report.chosen === null ? 3 : 0);
    const trials = report.trials as { reused: boolean }[];
    expect(trials.filter((t) => t.reused).length).toBe(before);
    const fresh = await run(args(join(work, "cnn.fresh.onnx"), join(work, "h3.jsonl")));
    expect((report.best as { int8Nodes: string[] }).int8Nodes).toEqual(
      (fresh.report.best as { int8Nodes: string[] }).int8Nodes,
    );
    expect(recorded()).toBe(trials.length);
  });
});
