import { describe, expect, it } from "vitest";
import { gptqQuantize, gptqWithHessian, type MatrixMultiply } from "./gptq.js";
import { dequantizeGroups, roundHalfEven } from "./group-quant.js";

function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 4294967296 - 0.5;
  };
}

/**
 * The textbook algorithm as the oracle: float64, unblocked, H^-1 by Cholesky, triangular inverse
 * and a second Cholesky (GPTQ's reference route), every error applied to every later channel at
 * once. No act-order.
 */
function referenceGptq(w: Float32Array, k: number, n: number, h: Float64Array, bits: number, bs: number) {
  const chol = (a: Float64Array) => {
    const l = new Float64Array(k * k);
    for (let i = 0; i < k; i++)
      for (let j = 0; j <= i; j++) {
        let s = a[i * k + j] as number;
        for (let t = 0; t < j; t++) s -= (l[i * k + t] as number) * (l[j * k + t] as number);
        l[i * k + j] = i === j ? Math.sqrt(s) : s / (l[j * k + j] as number);
      }
    return l;
  };
  const hd = Float64Array.from(h);
  let mean = 0;
  for (let i = 0; i < k; i++) mean += hd[i * k + i] as number;
  for (let i = 0; i < k; i++) hd[i * k + i] = (hd[i * k + i] as number) + (0.01 * mean) / k;
  const l = chol(hd);
  const li = new Float64Array(k * k);
  for (let j = 0; j < k; j++) {
    li[j * k + j] = 1 / (l[j * k + j] as number);
    for (let i = j + 1; i < k; i++) {
      let s = 0;
      for (let t = j; t < i; t++) s += (l[i * k + t] as number) * (li[t * k + j] as number);
      li[i * k + j] = -s / (l[i * k + i] as number);
    }
  }
  const inv = new Float64Array(k * k);
  for (let i = 0; i < k; i++)
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let t = Math.max(i, j); t < k; t++) s += (li[t * k + i] as number) * (li[t * k + j] as number);
      inv[i * k + j] = s;
    }
  const lower = chol(inv);
  const top = 2 ** bits - 1;
  const blocks = Math.ceil(k / bs);
  const ww = new Float64Array(k * n);
  for (let c = 0; c < n; c++) for (let i = 0; i < k; i++) ww[i * n + c] = w[c * k + i] as number;
  const levels = new Uint8Array(k * n);
  const scales = new Float32Array(n * blocks);
  const zps = new Float32Array(n * blocks);
  for (let i = 0; i < k; i++) {
    const b = Math.floor(i / bs);
    if (i % bs === 0)
      for (let c = 0; c < n; c++) {
        let lo = 0;
        let hi = 0;
        for (let j = i; j < Math.min(i + bs, k); j++) {
          lo = Math.min(lo, ww[j * n + c] as number);
          hi = Math.max(hi, ww[j * n + c] as number);
        }
        const s = Math.fround((hi - lo) / top);
        scales[c * blocks + b] = s;
        zps[c * blocks + b] = s === 0 ? 0 : Math.min(top, Math.max(0, roundHalfEven(-lo / s)));
      }
    const d = lower[i * k + i] as number;
    for (let c = 0; c < n; c++) {
      const s = scales[c * blocks + b] as number;
      const z = zps[c * blocks + b] as number;
      const v = ww[i * n + c] as number;
      const level = s === 0 ? z : Math.min(top, Math.max(0, roundHalfEven(v / s) + z));
      levels[c * k + i] = level;
      const e = (v - (level - z) * s) / d;
      for (let q = i + 1; q < k; q++) ww[q * n + c] = (ww[q * n + c] as number) - e * (lower[q * k + i] as number);
    }
  }
  return { bits, blockSize: bs, columns: n, k, levels, scales, zeroPoints: zps };
}

describe("GPTQ blocked (panels, lazy batches, pluggable GEMM)", () => {
  // k = 300: three Cholesky panels (128, 128, 44), lazy batches of 64 and a partial last block.
  const k = 300;
  const n = 24;
  const m = 96;
  const u = lcg(41);
  const w = Float32Array.from({ length: k * n }, () => u() * 2 + (u() > 0.49 ? u() * 10 : 0));
  const rows = new Float32Array(m * k);
  for (let r = 0; r < m; r++) {
    const f = [u(), u(), u(), u()];
    for (let i = 0; i < k; i++) rows[r * k + i] = (f[i % 4] as number) * (1 + (i % 7)) + 0.2 * u();
  }
  const h = new Float64Array(k * k);
  for (let r = 0; r < m; r++)
    for (let i = 0; i < k; i++)
      for (let j = 0; j < k; j++)
        h[i * k + j] = (h[i * k + j] as number) + (2 * (rows[r * k + i] as number) * (rows[r * k + j] as number)) / m;
  const outputError = (dq: Float32Array) => {
    let e = 0;
    for (let r = 0; r < m; r++)
      for (let c = 0; c < n; c++) {
        let d = 0;
        for (let i = 0; i < k; i++)
          d += (rows[r * k + i] as number) * ((w[c * k + i] as number) - (dq[c * k + i] as number));
        e += d * d;
      }
    return e;
  };

  it("matches the float64 unblocked algorithm: >= 99% of levels, output error within 2%", async () => {
    const reference = referenceGptq(w, k, n, h, 4, 32);
    const blocked = await gptqQuantize(w, k, n, rows, m, { bits: 4, blockSize: 32, batch: 64 });
    let same = 0;
    for (let i = 0; i < k * n; i++) if (blocked.levels[i] === reference.levels[i]) same++;
    // float32 vs float64 arithmetic flips a rounding now and then, and a flip changes the errors
    // fed forward; the result must stay the same algorithm's, not a different one's.
    expect(same / (k * n)).toBeGreaterThanOrEqual(0.99);
    const ours = outputError(dequantizeGroups(blocked));
    const theirs = outputError(dequantizeGroups(reference));
    expect(Math.abs(ours - theirs) / theirs).toBeLessThan(0.02);
  });

  it("gives the same levels whatever GEMM it is handed (a counting wrapper) and whatever the lazy batch", async () => {
    let calls = 0;
    const counting: MatrixMultiply = (a, b, mm, kk, nn) => {
      calls++;
      const out = new Float32Array(mm * nn);
      for (let i = 0; i < mm; i++)
        for (let t = 0; t < kk; t++) {
          const av = a[i * kk + t] as number;
          for (let j = 0; j < nn; j++) out[i * nn + j] = (out[i * nn + j] as number) + av * (b[t * nn + j] as number);
        }
      return Promise.resolve(out);
    };
    const a = await gptqWithHessian(w, k, n, h, { bits: 4, blockSize: 32, matmul: counting, batch: 128 });
    const b = await gptqWithHessian(w, k, n, h, { bits: 4, blockSize: 32, batch: 32 });
    expect(calls).toBeGreaterThan(5);
    let same = 0;
    for (let i = 0; i < k * n; i++) if (a.levels[i] === b.levels[i]) same++;
    expect(same / (k * n)).toBeGreaterThanOrEqual(0.99);
  });

  it("names the channel where the Hessian is not positive definite", async () => {
    const bad = new Float64Array(4 * 4);
    for (let i = 0; i < 4; i++) bad[i * 4 + i] = 1;
    bad[1] = 5;
    bad[4] = 5;
    await expect(gptqWithHessian(new Float32Array(8), 4, 2, bad, { bits: 4, blockSize: 16, damp: 0 })).rejects.toThrow(
      /not positive definite/,
    );
  });
});
