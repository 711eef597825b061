/**
 * `pnpm bench` for @zeropoint/core: absolute throughput and ratios against baselines measured in
 * the same run. Not part of the tests (tests never time things).
 */
import { Bench } from "tinybench";
import {
  computeQParams,
  conv2dFloat32,
  conv2dInt8,
  dequantizeInto,
  gemmFloat32,
  gemmInt8,
  quantizeInto,
} from "../src/index.js";

interface Row {
  group: string;
  name: string;
  ms: number;
  amount: number;
  unit: "GB/s" | "GOP/s";
  baseline?: string;
  target?: number;
}

function meanMs(bench: Bench, name: string): number {
  const task = bench.getTask(name);
  const result = task?.result as { latency?: { mean: number } } | undefined;
  if (result?.latency === undefined) throw new Error(`benchmark ${name} produced no result`);
  return result.latency.mean;
}

function random(n: number, scale = 1): Float32Array {
  let s = 12345;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = ((s / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

function randomInt8(n: number): Int8Array {
  let s = 777;
  const out = new Int8Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = (s >>> 24) - 128;
  }
  return out;
}

const rows: Row[] = [];

async function conversions(): Promise<void> {
  const n = 1 << 22; // 4 Mi floats, 16 MiB: larger than the caches, so memory-bound like real tensors.
  const x = random(n, 4);
  const copy = new Float32Array(n);
  const q = new Uint8Array(n);
  const back = new Float32Array(n);
  const qp = computeQParams(-4, 4, { scheme: { dtype: "uint8" } });
  const bench = new Bench({ iterations: 20, warmupIterations: 3, time: 0 });
  bench
    .add("loop copy (baseline)", () => {
      for (let i = 0; i < n; i++) copy[i] = x[i] as number;
    })
    .add("Float32Array#set", () => copy.set(x))
    .add("quantize uint8 (onnxruntime rounding)", () => quantizeInto(q, x, qp, { convention: "onnxruntime" }))
    .add("quantize uint8 (pytorch rounding)", () => quantizeInto(q, x, qp, { convention: "pytorch" }))
    .add("dequantize uint8", () => dequantizeInto(back, q, qp));
  await bench.run();
  for (const task of bench.tasks) {
    rows.push({
      group: `convert ${n} float32 values`,
      name: task.name,
      ms: meanMs(bench, task.name),
      amount: (n * 4) / 1e9,
      unit: "GB/s",
      baseline: "loop copy (baseline)",
      ...(task.name.startsWith("quantize") ? { target: 0.15 } : {}),
    });
  }
}

async function gemms(): Promise<void> {
  for (const size of [256, 1024]) {
    const a = randomInt8(size * size);
    const b = randomInt8(size * size);
    const af = Float32Array.from(a);
    const bf = Float32Array.from(b);
    const out = new Int32Array(size * size);
    const outF = new Float32Array(size * size);
    const iterations = size === 256 ? 20 : 3;
    const bench = new Bench({ iterations, warmupIterations: 1, time: 0 });
    const fp = `fp32 GEMM ${size}^3 (baseline)`;
    const i8 = `int8 GEMM ${size}^3, zero points`;
    bench
      .add(fp, () => gemmFloat32({ a: af, b: bf, m: size, k: size, n: size, out: outF }))
      .add(i8, () => gemmInt8({ a, b, m: size, k: size, n: size, aZeroPoint: 3, bZeroPoint: -2, out }));
    await bench.run();
    for (const name of [fp, i8]) {
      rows.push({
        group: `GEMM ${size}^3`,
        name,
        ms: meanMs(bench, name),
        amount: (2 * size ** 3) / 1e9,
        unit: "GOP/s",
        baseline: fp,
        ...(name === i8 ? { target: 1 } : {}),
      });
    }
  }
}

async function convs(): Promise<void> {
  const inputShape = [1, 64, 56, 56] as const;
  const weightShape = [64, 64, 3, 3] as const;
  const x = randomInt8(64 * 56 * 56);
  const w = randomInt8(64 * 64 * 9);
  const xf = Float32Array.from(x);
  const wf = Float32Array.from(w);
  const geometry = { pads: [1, 1, 1, 1] as const };
  const bench = new Bench({ iterations: 10, warmupIterations: 1, time: 0 });
  const fp = "fp32 conv2d 64x56x56, 3x3x64 (baseline)";
  const i8 = "int8 conv2d 64x56x56, 3x3x64";
  bench
    .add(fp, () => conv2dFloat32({ input: xf, inputShape, weight: wf, weightShape, ...geometry }))
    .add(i8, () => conv2dInt8({ input: x, inputShape, inputZeroPoint: 5, weight: w, weightShape, ...geometry }));
  await bench.run();
  const ops = (2 * 64 * 56 * 56 * 64 * 9) / 1e9;
  for (const name of [fp, i8])
    rows.push({
      group: "conv2d",
      name,
      ms: meanMs(bench, name),
      amount: ops,
      unit: "GOP/s",
      baseline: fp,
      ...(name === i8 ? { target: 1 } : {}),
    });
}

await conversions();
await gemms();
await convs();

const pad = (s: string, n: number) => s.padEnd(n);
console.log(
  `\n@zeropoint/core benchmarks (node ${process.version}, one thread; ratios against a baseline measured in this run)\n`,
);
console.log(`${pad("benchmark", 44)} ${pad("mean", 11)} ${pad("throughput", 14)} ${pad("× baseline", 11)} target`);
let group = "";
for (const r of rows) {
  if (r.group !== group) {
    group = r.group;
    console.log(`-- ${group}`);
  }
  const base = rows.find((b) => b.group === r.group && b.name === r.baseline);
  const ratio = base === undefined ? 1 : base.ms / r.ms;
  const throughput = r.amount / (r.ms / 1000);
  const target = r.target === undefined ? "" : `≥ ${r.target}× ${ratio >= r.target ? "met" : "NOT met"}`;
  console.log(
    `${pad(r.name, 44)} ${pad(`${r.ms.toFixed(2)} ms`, 11)} ${pad(`${throughput.toFixed(2)} ${r.unit}`, 14)} ${pad(`${ratio.toFixed(2)}×`, 11)} ${target}`,
  );
}
