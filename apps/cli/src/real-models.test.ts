import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeOnnxModel, REPO_ROOT } from "@zeropoint/test-helpers";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "./test-support.js";

const work = mkdtempSync(join(tmpdir(), "zeropoint-real-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const zoo = (name: string, file: string) => join(REPO_ROOT, "tooling/zoo/models", name, file);

describe("zoo models through the CLI, with no shape flags", () => {
  it("a fixed-batch-1 BERT with int64 ids and mask is calibrated sample by sample from one .npy per input", async () => {
    const out = join(work, "bert1.onnx");
    const r = await runCli([
      "quantize",
      zoo("bert", "model.batch1.onnx"),
      "-o",
      out,
      "--calib-data",
      zoo("bert", "calib"),
      "--samples",
      "16",
      "--check-samples",
      "8",
      "--no-check-latency",
      "--json",
    ]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(report.data).toMatch(/16 samples of input_ids.npy, attention_mask.npy/);
    expect(report.check.samples).toBe(8);
    expect(report.check.outputs[0]).toMatchObject({ name: "logits", kind: "class-vector" });
    expect(report.check.outputs[0].sqnr).toBeGreaterThan(20);
    expect(report.quantizedByOp.MatMul).toBeGreaterThan(0);
    expect(report.sizes.ratio).toBeLessThan(0.4);
  });

  it("weight-only on the GRU (state input batched on axis 1) needs no data and stores the GRU weights int8", async () => {
    const r = await runCli([
      "quantize",
      zoo("gru", "model.onnx"),
      "-o",
      join(work, "gru.onnx"),
      "--approach",
      "weight-only",
      "--no-check-latency",
      "--json",
    ]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(report.quantizedByOp).toMatchObject({ GRU: 1, Gemm: 1 });
    expect(report.sizes.ratio).toBeLessThan(0.35);
    expect(report.check.outputs[0].sqnr).toBeGreaterThan(30);
  });
});

describe("nothing to do, or degraded: exit 3 with the reason, the file still written", () => {
  // x -> Relu -> Neg: no op static quantization handles compute for.
  const plain = join(work, "plain.onnx");
  writeFileSync(
    plain,
    encodeOnnxModel({
      nodes: [
        { opType: "Neg", inputs: ["x"], outputs: ["a"] },
        { opType: "Abs", inputs: ["a"], outputs: ["y"] },
      ],
      inputs: [{ name: "x", elemType: "float", dims: ["batch", 4] }],
      outputs: [{ name: "y", elemType: "float", dims: ["batch", 4] }],
      opset: 13,
    }),
  );
  const cnn = new URL("../assets/mnist-cnn.onnx", import.meta.url).pathname;
  const cases: [string, string[], RegExp][] = [
    ["no supported op", ["quantize", plain, "--calib-data", "random"], /nothing was quantized.*Neg is not quantized/],
    [
      "every node excluded",
      ["quantize", cnn, "--approach", "dynamic", "--op-types", "Gemm", "--exclude-nodes", "/l1/Gemm,/l2/Gemm"],
      /nothing was quantized/,
    ],
    [
      "an output below the SQNR floor",
      ["quantize", cnn, "--approach", "weight-only", "--min-sqnr", "200"],
      /output SQNR below --min-sqnr 200 dB: logits/,
    ],
  ];
  it.each(cases)("%s", async (_label, argv, reason) => {
    const out = join(work, `${_label.replace(/\W+/g, "-")}.onnx`);
    const r = await runCli([...argv, "-o", out, "--no-check-latency"]);
    expect(r.code).toBe(3);
    expect(r.out).toMatch(reason);
    expect(existsSync(out)).toBe(true);
    const allowed = await runCli([...argv, "-o", out, "--no-check-latency", "--allow-degraded"]);
    expect(allowed.code).toBe(0);
  });
});

describe("a model whose network sits in an If branch", () => {
  it("inspect counts the branch's nodes and parameters; weight-only quantize stores them int8", async () => {
    const { mlpInsideIf } = await import("../../../packages/onnx/test-fixtures/if-model.js");
    const { encodeModel } = await import("@zeropoint/onnx");
    const path = join(work, "if-mlp.onnx");
    writeFileSync(path, encodeModel(mlpInsideIf()));
    const inspect = await runCli(["inspect", path, "--json"]);
    expect(inspect.code).toBe(0);
    const report = JSON.parse(inspect.out);
    expect(report.bodyNodes).toBeGreaterThan(4);
    // The main graph holds the If and the three nodes computing its run-time condition.
    expect(report.totalNodes).toBe(report.bodyNodes + 4);
    expect(report.ops.Gemm ?? report.ops.MatMul).toBeGreaterThan(0);
    expect(report.parameters).toBeGreaterThan(100_000);
    const q = await runCli([
      "quantize",
      path,
      "-o",
      join(work, "if-mlp.int8.onnx"),
      "--approach",
      "weight-only",
      "--no-check-latency",
      "--json",
    ]);
    expect(q.code).toBe(0);
    const quantized = JSON.parse(q.out);
    expect(quantized.sizes.ratio).toBeLessThanOrEqual(0.4);
    expect(Object.keys(quantized.quantizedByOp)).not.toContain("?");
  });
});

describe("compare on a model it cannot build in every framework", () => {
  it("a multi-input model is a usage error that names the inputs and points to quantize/tune", async () => {
    const r = await runCli(["compare", zoo("bert", "model.onnx"), "--out", join(work, "c.html")]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/single-input model.*2 inputs \(input_ids, attention_mask\).*quantize or tune/);
    expect(existsSync(join(work, "c.html"))).toBe(false);
  });
});

describe("calibration from sample-*.npz files", () => {
  it("feeds each .npz's arrays to the inputs of the same name (BERT, int64 ids and mask)", async () => {
    const dir = new URL("../test-fixtures/npz", import.meta.url).pathname;
    const r = await runCli([
      "quantize",
      zoo("bert", "model.onnx"),
      "-o",
      join(work, "bert-npz.onnx"),
      "--calib-data",
      dir,
      "--no-check-latency",
      "--allow-degraded",
      "--json",
    ]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(report.data).toBe(`2 .npz samples from ${dir}`);
    expect(report.check.samples).toBe(2);
    expect(report.quantizedByOp.MatMul).toBeGreaterThan(0);
  });
});
