/**
 * GPTQ benchmark (`pnpm bench`): one 4096 x 4096 MatMul weight, 128 calibration rows, int4 block 32
 * — issue 13 bounds it at 20 s here. Times core's GPTQ with onnxruntime's GEMM (what
 * quantizeWeightOnly uses) and, as the same-run baseline, with core's own JS GEMM on a 1024 x 1024
 * layer scaled by the k^3 + k^2 n it costs; peak RSS is read after each run.
 */
import { gptqQuantize, jsMatrixMultiply } from "@zeropoint/core";
import { onnxruntimeMatrixMultiply } from "../src/runtime/onnxruntime-matmul.js";

function random(n: number, seed: number): Float32Array {
  let s = seed;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = (s / 4294967296) * 2 - 1;
  }
  return out;
}

async function run(k: number, n: number, m: number, label: string, useOrt: boolean): Promise<number> {
  const w = random(k * n, 7);
  // Correlated activations: shared factors plus noise, as real hidden states are.
  const noise = random(m * k, 11);
  const factors = random(m * 8, 13);
  const rows = new Float32Array(m * k);
  for (let r = 0; r < m; r++)
    for (let i = 0; i < k; i++)
      rows[r * k + i] = (factors[r * 8 + (i % 8)] as number) + 0.3 * (noise[r * k + i] as number);
  const gemm = useOrt ? await onnxruntimeMatrixMultiply() : undefined;
  const started = performance.now();
  await gptqQuantize(w, k, n, rows, m, { bits: 4, blockSize: 32, matmul: gemm?.matmul ?? jsMatrixMultiply });
  const seconds = (performance.now() - started) / 1000;
  await gemm?.release();
  console.log(
    `  ${label}: ${k} x ${n}, ${m} rows: ${seconds.toFixed(2)} s, peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`,
  );
  return seconds;
}

console.log("\n@zeropoint/onnx GPTQ (int4 block 32)");
const js = await run(1024, 1024, 128, "core JS GEMM (baseline)", false);
const ortSmall = await run(1024, 1024, 128, "onnxruntime GEMM", true);
const ort = await run(4096, 4096, 128, "onnxruntime GEMM", true);
// The JS baseline at 4096 would cost about 64x its 1024 time (k^3 + k^2 n grows 64-fold).
console.log(
  `  1024: onnxruntime GEMM ${(js / ortSmall).toFixed(1)}x faster than core's JS GEMM; 4096: ${ort.toFixed(1)} s (${(20 / ort).toFixed(1)}x under the 20 s bound; the JS GEMM would take about ${(js * 64).toFixed(0)} s)`,
);
