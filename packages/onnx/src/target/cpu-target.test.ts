import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { dynamicQuantizeLinear, gemmInt8, INT16_MAX, maxU8S8PairSum, parseCpuinfo } from "@zeropoint/core";
import { EMULATED_CPU, mnistSplit, probeMlasArithmetic, runOnEmulatedCpu } from "@zeropoint/test-helpers";
import * as ort from "onnxruntime-node";
import { afterAll, describe, expect, it } from "vitest";
import { encodeModel, mnistCalibration, ortReference, sharedModelBytes } from "../../test-fixtures/mnist-eval.js";
import type { OnnxModel, OnnxTensor } from "../model/onnx-schema.js";
import { readIntegers, tensorDims } from "../model/tensor-data.js";
import { quantizeDynamic } from "../quantize/quantize-dynamic.js";
import { quantizeStatic } from "../quantize/quantize-static.js";
import {
  decideKernel,
  describeCpuTarget,
  probeU8S8Saturation,
  readCpuFeatures,
  resolveCpuTarget,
} from "./cpu-target.js";

const SCRIPT = fileURLToPath(new URL("../../test-fixtures/emulated/detect-target.ts", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "zeropoint-cpu-target-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("CPU target detection", () => {
  it("the probe agrees with this machine's feature flags and with the test helpers' independent probe", async () => {
    const features = readCpuFeatures();
    const probe = await probeU8S8Saturation(ort);
    const decided = decideKernel(features, probe);
    // Under qemu-user the flags in /proc/cpuinfo are the host's while CPUID (and so onnxruntime) is
    // the emulated CPU's: then the disagreement must be detected and the probe must win. On real
    // hardware the flags and the probe agree.
    if (process.env.ZEROPOINT_EMULATED_CPU !== undefined) expect(decided.note).toContain("probe");
    else expect(decided.note).toBeUndefined();
    expect(decided.u8s8Saturates).toBe(probe.saturates);
    expect((await probeMlasArithmetic(ort)).u8s8Saturates).toBe(probe.saturates);
    const target = await resolveCpuTarget("auto");
    expect(target.kernel).toBe(decided.kernel);
    expect(describeCpuTarget(target).join("\n")).toContain(`integer kernel: ${target.kernel}`);
  });

  it("the probe wins over flags that disagree with it, and says so", () => {
    const vnniFlags = parseCpuinfo("flags\t: avx2 avx512f avx512bw avx512_vnni\n");
    const saturating = decideKernel(vnniFlags, { exact: 129540, got: 65534, saturates: true });
    expect(saturating).toMatchObject({ kernel: "x64-avx512", u8s8Saturates: true });
    expect(saturating.note).toContain("probe saturated");
    const avx2Flags = parseCpuinfo("flags\t: sse4_1 avx2\n");
    const exact = decideKernel(avx2Flags, { exact: 129540, got: 129540, saturates: false });
    expect(exact).toMatchObject({ u8s8Saturates: false });
    expect(exact.note).toContain("probe was exact");
    expect(decideKernel(avx2Flags, undefined)).toEqual({ kernel: "x64-avx2", u8s8Saturates: true });
  });

  it("a named target needs no probe", async () => {
    expect(await resolveCpuTarget("avx2")).toMatchObject({ kernel: "x64-avx2", u8s8Saturates: true });
    expect(await resolveCpuTarget("vnni")).toMatchObject({ kernel: "x64-avx512-vnni", u8s8Saturates: false });
    expect(await resolveCpuTarget("arm64")).toMatchObject({ u8s8Saturates: false });
    expect(await resolveCpuTarget("wasm")).toMatchObject({ kernel: "wasm", u8s8Saturates: false });
  });
});

/** Every int8 weight matrix feeding an integer GEMM, as `[k, n]` in MLAS's depth order. */
function integerWeights(model: OnnxModel): { name: string; w: Int8Array; k: number; n: number }[] {
  const graph = model.graph as NonNullable<OnnxModel["graph"]>;
  const inits = new Map(graph.initializer.map((t) => [t.name as string, t]));
  const out: { name: string; w: Int8Array; k: number; n: number }[] = [];
  const int8 = (t: OnnxTensor | undefined) => t !== undefined && t.dataType === 3;
  for (const node of graph.node) {
    const name =
      node.opType === "MatMulInteger" ? node.input[1] : node.opType === "DequantizeLinear" ? node.input[0] : undefined;
    const t = name === undefined ? undefined : inits.get(name);
    if (t === undefined || !int8(t)) continue;
    const dims = tensorDims(t);
    const w = Int8Array.from(readIntegers(t));
    if (dims.length === 2) out.push({ name: t.name as string, w, k: dims[0] as number, n: dims[1] as number });
    if (dims.length === 4) {
      // Conv [m, c, kh, kw] → MLAS's NHWC depth order (kh, kw, c) per output channel.
      const [m, c, kh, kw] = dims as [number, number, number, number];
      const depth = c * kh * kw;
      const packed = new Int8Array(depth * m);
      for (let o = 0; o < m; o++)
        for (let y = 0; y < kh; y++)
          for (let x = 0; x < kw; x++)
            for (let ci = 0; ci < c; ci++)
              packed[((y * kw + x) * c + ci) * m + o] = w[((o * c + ci) * kh + y) * kw + x] as number;
      out.push({ name: t.name as string, w: packed, k: depth, n: m });
    }
  }
  return out;
}

function firstImages(count: number): { dims: number[]; data: number[] } {
  const test = mnistSplit("test");
  return { dims: [count, 1, 28, 28], data: Array.from(test.images.subarray(0, count * 784)) };
}

async function runHere(model: OnnxModel, feeds: { dims: number[]; data: number[] }): Promise<Record<string, number[]>> {
  const session = await ort.InferenceSession.create(encodeModel(model), {
    intraOpNumThreads: 1,
    executionProviders: ["cpu"],
  });
  try {
    const out = await session.run({ input: new ort.Tensor("float32", Float32Array.from(feeds.data), feeds.dims) });
    return Object.fromEntries(
      Object.entries(out).map(([k, v]) => [k, Array.from(v.data as ArrayLike<number>, Number)]),
    );
  } finally {
    await session.release();
  }
}

function maxAbsDiff(a: readonly number[], b: readonly number[]): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs((a[i] as number) - (b[i] as number)));
  return d;
}

describe(`--target-cpu on an emulated ${EMULATED_CPU.label}`, () => {
  it("avx2-target models cannot saturate, compute on the emulated CPU what this machine and core's kernels compute; full-range models do not", async () => {
    const images = firstImages(64);
    // Whether this machine and the emulated CPU saturate decides which results must differ.
    const hereSaturates = (await probeU8S8Saturation(ort)).saturates;
    const differs = hereSaturates !== EMULATED_CPU.u8s8Saturates;
    const feedsFile = join(dir, "feeds.json");
    writeFileSync(feedsFile, JSON.stringify({ input: images }));
    const cases: { label: string; model: OnnxModel }[] = [];
    for (const targetCpu of ["avx2", "vnni"] as const) {
      const dynamic = await quantizeDynamic(sharedModelBytes("mlp"), { targetCpu });
      expect(dynamic.report.target).toMatchObject({
        requested: targetCpu,
        remedy: targetCpu === "avx2" ? "reduce-range" : "none",
        automatic: targetCpu === "avx2",
      });
      // Expose the first MatMulInteger's int32 output, to compare it with core's GEMM.
      const graph = dynamic.model.graph as NonNullable<OnnxModel["graph"]>;
      const mmi = graph.node.find((n) => n.opType === "MatMulInteger");
      expect(mmi).toBeDefined();
      graph.output.push({ name: mmi?.output[0] as string, type: { tensorType: { elemType: 6 } } });
      cases.push({ label: `mlp dynamic ${targetCpu}`, model: dynamic.model });
      const qdq = await quantizeStatic(sharedModelBytes("cnn"), {
        calibrationData: () => mnistCalibration(),
        perChannel: true,
        targetCpu,
      });
      expect(qdq.report.target?.remedy).toBe(targetCpu === "avx2" ? "reduce-range" : "none");
      cases.push({ label: `cnn qdq ${targetCpu}`, model: qdq.model });
    }
    const files = cases.map((c, i) => {
      const file = join(dir, `case-${i}.onnx`);
      writeFileSync(file, encodeModel(c.model));
      return file;
    });
    const emulated = JSON.parse(
      runOnEmulatedCpu(
        SCRIPT,
        files.flatMap((f) => [f, feedsFile]),
      ),
    ) as {
      target: { u8s8Saturates: boolean; evidence: { probe?: { saturates: boolean } } };
      runs: Record<string, Record<string, number[]>>;
    };
    // The emulated CPU is what it claims: onnxruntime's probe saturates there (x86-64 hosts) or not (arm64).
    expect(emulated.target.evidence.probe?.saturates).toBe(EMULATED_CPU.u8s8Saturates);
    expect(emulated.target.u8s8Saturates).toBe(EMULATED_CPU.u8s8Saturates);

    for (const [i, c] of cases.entries()) {
      const here = await runHere(c.model, images);
      const there = emulated.runs[files[i] as string] as Record<string, number[]>;
      const logits = maxAbsDiff(here.logits as number[], there.logits as number[]);
      const scale = Math.max(...(here.logits as number[]).map(Math.abs));
      if (c.label.endsWith("avx2")) {
        // Every pair sum is bounded by 32640 for any input: the integer results are the same on
        // every kernel, and the logits differ only by float rounding of the kernels' vector widths.
        for (const w of integerWeights(c.model)) {
          expect(maxU8S8PairSum(w.w, w.k, w.n), w.name).toBeLessThanOrEqual(INT16_MAX);
        }
        expect(logits, c.label).toBeLessThanOrEqual(1e-5 * scale);
      } else if (differs) {
        // Full-range weights: a saturating kernel computes something else than an exact one.
        expect(logits, c.label).toBeGreaterThan(1e-3 * scale);
      } else {
        expect(logits, c.label).toBeLessThanOrEqual(1e-5 * scale);
      }
      if (c.label.startsWith("mlp")) {
        // core's exact GEMM on the same uint8 activations and int8 weights.
        const graph = c.model.graph as NonNullable<OnnxModel["graph"]>;
        const mmi = graph.node.find((n) => n.opType === "MatMulInteger") as NonNullable<OnnxModel["graph"]>["node"][0];
        const wt = graph.initializer.find((t) => t.name === mmi.input[1]) as OnnxTensor;
        const [k, n] = tensorDims(wt) as [number, number];
        const x = Float32Array.from(images.data);
        const flat = x.length / k; // rows after the model's Flatten
        const { y, zeroPoint } = dynamicQuantizeLinear(x);
        const core = gemmInt8({ a: y, b: Int8Array.from(readIntegers(wt)), m: flat, k, n, aZeroPoint: zeroPoint });
        const safe = c.label.endsWith("avx2");
        const onHere = maxAbsDiff(Array.from(core), here[mmi.output[0] as string] as number[]);
        if (safe || !hereSaturates) expect(onHere, `${c.label}: core vs onnxruntime here`).toBe(0);
        else expect(onHere, `${c.label}: core vs onnxruntime here`).toBeGreaterThan(0);
        const onEmulated = maxAbsDiff(Array.from(core), there[mmi.output[0] as string] as number[]);
        if (safe || !EMULATED_CPU.u8s8Saturates) expect(onEmulated, `${c.label}: core vs emulated`).toBe(0);
        else expect(onEmulated, `${c.label}: core vs emulated`).toBeGreaterThan(0);
      }
    }
  }, 900_000);
});

describe(`accuracy on an emulated ${EMULATED_CPU.label}`, () => {
  it("static per-channel QDQ (default target: this CPU) is within 0.3 points of onnxruntime's quantizer on the whole test split, running there", async () => {
    // The model is quantized for the emulated CPU (auto on that CPU resolves to the same kernel as
    // --target-cpu below) and scored where it runs: under qemu, on all 10,000 test images.
    const targetCpu = EMULATED_CPU.u8s8Saturates ? "avx2" : "arm64";
    const { model, report } = await quantizeStatic(sharedModelBytes("cnn"), {
      calibrationData: () => mnistCalibration(),
      perChannel: true,
      targetCpu,
    });
    expect(report.target?.u8s8Saturates).toBe(EMULATED_CPU.u8s8Saturates);
    const file = join(dir, "cnn-qdq-target.onnx");
    writeFileSync(file, encodeModel(model));
    const emulated = JSON.parse(runOnEmulatedCpu(SCRIPT, [file, "mnist-top1"])) as {
      runs: Record<string, { top1: number[] }>;
    };
    const top1 = emulated.runs[file]?.top1 as number[];
    const labels = mnistSplit("test").labels;
    expect(top1).toHaveLength(labels.length);
    let ok = 0;
    for (let i = 0; i < labels.length; i++) if (top1[i] === labels[i]) ok++;
    const accuracy = ok / labels.length;
    const reference = ortReference().cnn?.qdq as number;
    console.log(
      `cnn static QDQ per-channel on ${EMULATED_CPU.label}: ${accuracy.toFixed(4)} (onnxruntime's quantizer ${reference})`,
    );
    expect(Math.abs(accuracy - reference)).toBeLessThanOrEqual(0.003);
  }, 900_000);
});
