import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { npy, runCli } from "./test-support.js";

const work = mkdtempSync(join(tmpdir(), "zeropoint-cli-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const model = new URL("../assets/mnist-cnn.onnx", import.meta.url).pathname;

const run = runCli;

describe("zeropoint quantize", () => {
  it("quantizes the bundled CNN with MNIST calibration and reports JSON", async () => {
    const output = join(work, "cnn.int8.onnx");
    const r = await run([
      "quantize",
      model,
      "-o",
      output,
      "--calib-data",
      "mnist:train",
      "--samples",
      "128",
      "--per-channel",
      "--json",
    ]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(report.sizes.ratio).toBeLessThan(0.27);
    expect(report.check.top1Agreement).toBeGreaterThan(0.95);
    expect(report.check.outputs[0].sqnr).toBeGreaterThan(25);
    expect(report.quantizedNodes.length).toBe(7);
    expect(existsSync(output)).toBe(true);
  });

  it("dynamic and weight-only approaches need no calibration data; int4 writes MatMulNBits", async () => {
    const mlp = join(work, "mlp.onnx");
    writeFileSync(mlp, readFileSync(model));
    const dyn = await run(["quantize", model, "-o", join(work, "dyn.onnx"), "--approach", "dynamic", "--json"]);
    expect(dyn.code).toBe(0);
    expect(JSON.parse(dyn.out).format).toBe("IntegerOps");
    const q4 = await run([
      "quantize",
      model,
      "-o",
      join(work, "q4.onnx"),
      "--approach",
      "weight-only",
      "--weight-type",
      "int4",
      "--json",
    ]);
    expect(q4.code).toBe(0);
    // Two Gemms: the hidden one becomes MatMulNBits; the output projection is stored int8 (default).
    expect(JSON.parse(q4.out).ops.quantized["com.microsoft.MatMulNBits"]).toBe(1);
    expect(JSON.parse(q4.out).ops.quantized.DequantizeLinear).toBe(1);
  });

  it("--mixed: int4 with the CNN's Gemms ranked on calibration data, within --max-size of all-int4", async () => {
    const r = await run([
      "quantize",
      model,
      "-o",
      join(work, "mixed.onnx"),
      "--approach",
      "weight-only",
      "--weight-type",
      "int4",
      "--int4-method",
      "gptq",
      "--mixed",
      "--max-size",
      "1.5x",
      "--calib-data",
      "mnist:train",
      "--samples",
      "64",
      "--json",
    ]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    // Both Gemms are candidates (the output projection too); the budget buys at least one upgrade.
    expect(report.mixed.map((l: { opType: string }) => l.opType)).toEqual(["Gemm", "Gemm"]);
    expect(report.mixed.some((l: { bits: number }) => l.bits > 4)).toBe(true);
    for (const l of report.mixed as { bits: number; error: number; baseError: number }[])
      expect(l.error).toBeLessThanOrEqual(l.baseError);
    expect(report.check.top1Agreement).toBeGreaterThan(0.95);
  });

  it("tune --bits 4,8,16: the shortest upgrade prefix that meets --max-loss, and nothing shorter does", async () => {
    const output = join(work, "tune-bits.onnx");
    const r = await run([
      "tune",
      model,
      "-o",
      output,
      "--bits",
      "4,8,16",
      "--calib-data",
      "mnist:train",
      "--samples",
      "64",
      "--eval-data",
      "mnist:test-even",
      "--eval-samples",
      "1000",
      "--max-loss",
      "0.1%",
      "--json",
    ]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(report.status).toBe("met");
    const probes = report.probes as { upgrades: number; metric: number }[];
    expect(report.metric).toBeGreaterThanOrEqual(report.threshold);
    // Every probed shorter prefix misses the criterion (the bisection's claim).
    for (const p of probes) if (p.upgrades < report.upgrades) expect(p.metric).toBeLessThan(report.threshold);
    expect(probes.some((p) => p.upgrades === report.upgrades - 1) || report.upgrades === 0).toBe(true);
    expect(existsSync(output)).toBe(true);
    const bad = await run([
      "tune",
      model,
      "-o",
      output,
      "--bits",
      "8,16",
      "--calib-data",
      "mnist:train",
      "--eval-data",
      "mnist",
    ]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("--bits must include 4");
  });

  it("--accuracy-level 4 writes MatMulNBits accuracy_level 4 (weight-only int4 and --preset q4)", async () => {
    const { loadModel } = await import("@zeropoint/onnx");
    const levels = (file: string) =>
      (loadModel(file).model.graph?.node ?? [])
        .filter((n) => n.opType === "MatMulNBits")
        .map((n) => Number(n.attribute.find((a) => a.name === "accuracy_level")?.i));
    const q4 = join(work, "level4.onnx");
    const r = await run([
      "quantize",
      model,
      "-o",
      q4,
      "--approach",
      "weight-only",
      "--weight-type",
      "int4",
      "--accuracy-level",
      "4",
    ]);
    expect(r.code).toBe(0);
    expect(levels(q4)).toEqual([4]);
    const dir = join(work, "level4-preset");
    const p = await run(["quantize", model, "-o", dir, "--preset", "q4", "--accuracy-level", "4", "--json"]);
    expect(p.code).toBe(0);
    expect(levels(join(dir, "mnist-cnn_q4.onnx"))).toEqual([4]);
  });

  it("--preset on a model with external data: weights read lazily, outputs keep external data, sizes count it", async () => {
    const { loadModel, saveModel } = await import("@zeropoint/onnx");
    const dir = join(work, "external-preset");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(dir);
    const source = join(dir, "model.onnx");
    saveModel(loadModel(model).model, source, { externalData: "always" });
    const r = await run(["quantize", source, "--preset", "q8,q4,fp16", "--json"]);
    expect(r.code).toBe(0);
    const files = JSON.parse(r.out).files as { preset: string; output: string; sizes: { ratio: number } }[];
    const ratio = Object.fromEntries(files.map((f) => [f.preset, f.sizes.ratio]));
    // Against the float model with its data file: q8 ~0.26x, fp16 ~0.5x (the graph protobuf alone
    // would make every ratio > 1).
    expect(ratio.q8).toBeLessThan(0.3);
    expect(ratio.fp16).toBeLessThan(0.55);
    expect(ratio.q4).toBeLessThan(0.3);
    for (const f of files) expect(existsSync(`${f.output}.data`)).toBe(true);
  });

  it("reads a directory of .npy samples and batches", async () => {
    const dir = join(work, "npy");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(dir);
    writeFileSync(join(dir, "a.npy"), npy([1, 28, 28], new Float32Array(784).fill(0.5)));
    writeFileSync(
      join(dir, "b.npy"),
      npy(
        [3, 1, 28, 28],
        new Float32Array(3 * 784).map((_, i) => (i % 97) / 97),
      ),
    );
    const r = await run(["quantize", model, "-o", join(work, "npy.onnx"), "--calib-data", dir, "--json"]);
    expect(r.err).toBe("");
    expect(JSON.parse(r.out).check.samples).toBe(4);
  });

  describe("bad input: one clear line, non-zero exit, no output file", () => {
    const cases: [string, () => string[], RegExp][] = [
      [
        "truncated model",
        () => {
          const f = join(work, "truncated.onnx");
          writeFileSync(f, readFileSync(model).subarray(0, 5000));
          return ["quantize", f, "-o", join(work, "x1.onnx"), "--calib-data", "random"];
        },
        /invalid-model.*truncated\.onnx/,
      ],
      [
        "not an ONNX file",
        () => {
          const f = join(work, "text.onnx");
          writeFileSync(f, "hello, I am not a model\n".repeat(20));
          return ["quantize", f, "-o", join(work, "x2.onnx"), "--calib-data", "random"];
        },
        /invalid-model.*text\.onnx/,
      ],
      [
        "calibration data of the wrong shape",
        () => {
          const dir = mkdtempSync(join(work, "shape-"));
          writeFileSync(join(dir, "a.npy"), npy([1, 32, 32], new Float32Array(1024)));
          return ["quantize", model, "-o", join(work, "x3.onnx"), "--calib-data", dir];
        },
        /invalid-calibration-data.*input input: dim 2 is 32 but the model expects 28/,
      ],
      [
        "NaN in calibration data",
        () => {
          const dir = mkdtempSync(join(work, "nan-"));
          const values = new Float32Array(784);
          values[100] = Number.NaN;
          writeFileSync(join(dir, "a.npy"), npy([1, 28, 28], values));
          return ["quantize", model, "-o", join(work, "x4.onnx"), "--calib-data", dir];
        },
        /invalid-calibration-data.*element 100 is NaN/,
      ],
      [
        "empty calibration set",
        () => {
          const dir = mkdtempSync(join(work, "empty-"));
          writeFileSync(join(dir, "a.npy"), npy([0, 1, 28, 28], new Float32Array(0)));
          return ["quantize", model, "-o", join(work, "x5.onnx"), "--calib-data", dir];
        },
        /calibration set is empty/,
      ],
      [
        "output directory missing",
        () => ["quantize", model, "-o", join(work, "missing-dir", "x6.onnx"), "--calib-data", "random"],
        /io-error.*does not exist/,
      ],
      [
        "output parent is a regular file",
        () => {
          const f = join(work, "plain-file");
          writeFileSync(f, "x");
          return ["quantize", model, "-o", join(f, "x7.onnx"), "--calib-data", "random"];
        },
        /io-error.*is not a directory/,
      ],
    ];
    for (const [name, args, message] of cases) {
      it(name, async () => {
        const before = new Set(readdirSync(work));
        const argv = args();
        const r = await run(argv);
        expect(r.code).not.toBe(0);
        const lines = r.err.trim().split("\n");
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(message);
        const target = argv[argv.indexOf("-o") + 1] as string;
        expect(existsSync(target)).toBe(false);
        // No temporary files either.
        expect(readdirSync(work).filter((f) => !before.has(f) && f.includes(".tmp-"))).toEqual([]);
      });
    }
  });

  it("usage errors exit 2 with a pointer to --help", async () => {
    const r = await run(["quantize", model]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/needs -o/);
    const bad = await run(["quantize", model, "-o", join(work, "y.onnx"), "--format", "tflite"]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--format must be one of qdq, qoperator/);
  });
});

describe("zeropoint inspect", () => {
  it("prints opset, io, op histogram and per-node decisions", async () => {
    const r = await run(["inspect", model, "--json"]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(report.opset).toBe(17);
    expect(report.inputs[0]).toEqual({ name: "input", dims: ["batch", 1, 28, 28], dtype: "float32", batchAxis: 0 });
    expect(report.ops.Conv).toBe(2);
    expect(report.nodes.find((n: { name: string }) => n.name === "/r1/Relu").decision).toBe("removed");
    expect(report.nodes.find((n: { name: string }) => n.name === "/c1/Conv").decision).toBe("compute");
    const text = await run(["inspect", model]);
    expect(text.out).toMatch(/opset 17/);
    expect(text.out).toMatch(/\/c2\/Conv\s+Conv\s+compute/);
  });
});
