import { describe, expect, it } from "vitest";
import { dequantizeGroups, hqqGroupQuantize, rtnGroupQuantize } from "./group-quant.js";

function heavyTailed(n: number, seed = 3): Float32Array {
  let s = seed;
  const u = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s + 0.5) / 4294967296;
  };
  // Laplace noise plus rare large outliers: the shape of trained transformer weights.
  return Float32Array.from({ length: n }, () => {
    const v = -Math.log(u()) * (u() < 0.5 ? -1 : 1) * 0.02;
    return u() < 0.01 ? v * 12 : v;
  });
}

const meanAbsError = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let e = 0;
  for (let i = 0; i < a.length; i++) e += Math.abs((a[i] as number) - (b[i] as number));
  return e / a.length;
};

describe("round-to-nearest blocks", () => {
  it("closed form: a block spanning its grid is reproduced exactly", () => {
    // Block [0, 1, 2, 3] at 2 bits: scale (3 - 0) / 3 = 1, zero point 0.
    const q = rtnGroupQuantize(Float32Array.of(0, 1, 2, 3, -3, -2, -1, 0), 4, 2, { bits: 2, blockSize: 4 });
    expect(Array.from(q.scales)).toEqual([1, 1]);
    expect(Array.from(q.zeroPoints)).toEqual([0, 3]);
    expect(Array.from(dequantizeGroups(q))).toEqual([0, 1, 2, 3, -3, -2, -1, 0]);
  });

  it("symmetric blocks follow MatMulNBits: zero point 8, scale = signed absmax / -8", () => {
    const q = rtnGroupQuantize(Float32Array.of(0.5, -1, 0.25, 0), 4, 1, { bits: 4, blockSize: 4, symmetric: true });
    expect(q.zeroPoints[0]).toBe(8);
    expect(q.scales[0]).toBe(Math.fround(-1 / -8));
    expect(Array.from(q.levels)).toEqual([12, 0, 10, 8]);
  });

  it("ties round to even, as onnxruntime does", () => {
    // scale 1/15 * 15 = 1 over [0, 15]; 2.5 -> 2, 3.5 -> 4
    const q = rtnGroupQuantize(Float32Array.of(0, 2.5, 3.5, 15), 4, 1, { bits: 4, blockSize: 4 });
    expect(Array.from(q.levels)).toEqual([0, 2, 4, 15]);
  });
});

describe("HQQ", () => {
  it("never reconstructs a block worse than RTN, and is better overall on heavy-tailed weights", () => {
    const k = 256;
    const columns = 64;
    const w = heavyTailed(k * columns);
    for (const blockSize of [16, 32, 64, 128]) {
      const rtn = rtnGroupQuantize(w, k, columns, { bits: 4, blockSize });
      const hqq = hqqGroupQuantize(w, k, columns, { bits: 4, blockSize });
      const rd = dequantizeGroups(rtn);
      const hd = dequantizeGroups(hqq);
      const blocks = Math.ceil(k / blockSize);
      for (let g = 0; g < columns * blocks; g++) {
        const c = Math.floor(g / blocks);
        const from = c * k + (g % blocks) * blockSize;
        const to = from + blockSize;
        // Up to the float32 rounding of the stored zero point (HQQ optimizes it in float64).
        const rtnError = meanAbsError(w.subarray(from, to), rd.subarray(from, to));
        expect(meanAbsError(w.subarray(from, to), hd.subarray(from, to))).toBeLessThanOrEqual(rtnError * (1 + 1e-6));
      }
      const gain = 1 - meanAbsError(w, hd) / meanAbsError(w, rd);
      expect(gain).toBeGreaterThan(0.01);
    }
  });

  it("refuses symmetric blocks (there is no zero point to optimize)", () => {
    expect(() => hqqGroupQuantize(new Float32Array(4), 4, 1, { bits: 4, blockSize: 4, symmetric: true })).toThrow(
      /asymmetric/,
    );
  });
});

describe("AWQ scale search", () => {
  it("alpha = 0 is RTN, the chosen loss is never above it, and salient channels make it pay", async () => {
    const { awqSearch } = await import("./awq.js");
    const k = 64;
    const columns = 32;
    const m = 128;
    const w = heavyTailed(k * columns, 5);
    // Activations with a few salient channels (100x larger), as LLM activations have.
    let s = 11;
    const u = () => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return s / 4294967296 - 0.5;
    };
    const rows = Float32Array.from({ length: m * k }, (_, j) => u() * (j % k < 4 ? 100 : 1));
    const result = awqSearch(w, k, columns, rows, m, { bits: 4, blockSize: 32 });
    expect(result.loss).toBeLessThanOrEqual(result.rtnLoss);
    expect(result.alpha).toBeGreaterThan(0);
    expect(result.loss).toBeLessThan(0.7 * result.rtnLoss);
    expect(result.scales.length).toBe(k);
  });
});

describe("AWQ output-error clipping", () => {
  const lcg = (seed: number) => {
    let s = seed;
    return () => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return s / 4294967296 - 0.5;
    };
  };
  const outputError = (
    w: Float32Array,
    dq: Float32Array,
    rows: Float32Array,
    k: number,
    columns: number,
    m: number,
  ) => {
    let e = 0;
    for (let r = 0; r < m; r++)
      for (let c = 0; c < columns; c++) {
        let acc = 0;
        for (let i = 0; i < k; i++)
          acc += (rows[r * k + i] as number) * ((w[c * k + i] as number) - (dq[c * k + i] as number));
        e += acc * acc;
      }
    return e / (m * columns);
  };

  it("with orthonormal rows (G = I) picks what the weight-MSE clip search picks", async () => {
    const { outputErrorClip } = await import("./awq.js");
    const k = 32;
    const columns = 16;
    const w = heavyTailed(k * columns, 21);
    // The k unit vectors as rows: each block's second-moment matrix is I / k, a multiple of I, so
    // the output error of a candidate is its squared weight error (the ratio grids are the same
    // for 1..0.55; the weight search also tries 0.5, which the check below allows to differ).
    const rows = new Float32Array(k * k);
    for (let i = 0; i < k; i++) rows[i * k + i] = 1;
    const ones = new Float32Array(k).fill(1);
    const options = { bits: 4, blockSize: 8 };
    const clipped = outputErrorClip(w, k, columns, rows, k, ones, options);
    const mse = rtnGroupQuantize(w, k, columns, { ...options, clipSearch: true });
    const blocks = (k / 8) * columns;
    let same = 0;
    for (let g = 0; g < blocks; g++) if (clipped.scales[g] === mse.scales[g]) same++;
    expect(same).toBeGreaterThanOrEqual(blocks - 2);
  });

  it("never raises the calibration output error above unclipped RTN, and cuts it on correlated rows", async () => {
    const { outputErrorClip } = await import("./awq.js");
    const k = 64;
    const columns = 32;
    const m = 256;
    const w = heavyTailed(k * columns, 23);
    const u = lcg(29);
    const rows = new Float32Array(m * k);
    for (let r = 0; r < m; r++) {
      const f = [u(), u()];
      for (let i = 0; i < k; i++) rows[r * k + i] = (f[i % 2] as number) * (1 + (i % 3)) + 0.05 * u();
    }
    const ones = new Float32Array(k).fill(1);
    const options = { bits: 4, blockSize: 32 };
    const rtn = dequantizeGroups(rtnGroupQuantize(w, k, columns, options));
    const clip = dequantizeGroups(outputErrorClip(w, k, columns, rows, m, ones, options));
    // Blocks are chosen independently, so the sum of the per-block errors can only fall; cross-block
    // terms of the total need not, hence the 1% slack on the whole-layer error.
    expect(outputError(w, clip, rows, k, columns, m)).toBeLessThan(outputError(w, rtn, rows, k, columns, m) * 1.01);
    expect(outputError(w, clip, rows, k, columns, m)).toBeLessThan(outputError(w, rtn, rows, k, columns, m));
  });

  it("duo scaling and clipping each keep the search at or below RTN's loss", async () => {
    const { awqSearch } = await import("./awq.js");
    const k = 64;
    const columns = 16;
    const m = 64;
    const w = heavyTailed(k * columns, 31);
    const u = lcg(37);
    const rows = Float32Array.from({ length: m * k }, (_, j) => u() * (j % k < 3 ? 50 : 1));
    for (const duoScaling of [true, false]) {
      const r = awqSearch(w, k, columns, rows, m, { bits: 4, blockSize: 32, duoScaling, clipSearch: true });
      expect(r.loss).toBeLessThanOrEqual(r.rtnLoss);
      const dq = dequantizeGroups(r.quantized);
      for (let c = 0; c < columns; c++)
        for (let i = 0; i < k; i++) dq[c * k + i] = (dq[c * k + i] as number) / (r.scales[i] as number);
      // The clipped result is judged on the same rows: no worse than the unclipped chosen alpha.
      expect(outputError(w, dq, rows, k, columns, m)).toBeLessThanOrEqual(r.loss * 1.01);
    }
  });
});

describe("GPTQ", () => {
  it("with an identity Hessian (no damping) is exactly round-to-nearest", async () => {
    const { gptqWithHessian } = await import("./gptq.js");
    const k = 64;
    const columns = 8;
    const w = heavyTailed(k * columns, 9);
    const identity = new Float64Array(k * k);
    for (let i = 0; i < k; i++) identity[i * k + i] = 1;
    const g = await gptqWithHessian(w, k, columns, identity, { bits: 4, blockSize: 16, damp: 0 });
    const r = rtnGroupQuantize(w, k, columns, { bits: 4, blockSize: 16 });
    expect(Array.from(g.levels)).toEqual(Array.from(r.levels));
    expect(Array.from(g.scales)).toEqual(Array.from(r.scales));
  });

  it("cuts the layer's output error against RTN on correlated activations (plain and act-order)", async () => {
    const { gptqQuantize } = await import("./gptq.js");
    const k = 64;
    const columns = 32;
    const m = 256;
    const w = heavyTailed(k * columns, 13);
    let s = 17;
    const u = () => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return s / 4294967296 - 0.5;
    };
    // Correlated channels: each row is a few shared factors plus noise.
    const rows = new Float32Array(m * k);
    for (let r = 0; r < m; r++) {
      const f = [u(), u(), u()];
      for (let i = 0; i < k; i++) rows[r * k + i] = (f[i % 3] as number) * (1 + (i % 5)) + 0.1 * u();
    }
    const outputError = (dq: Float32Array) => {
      let e = 0;
      for (let r = 0; r < m; r++)
        for (let c = 0; c < columns; c++) {
          let d = 0;
          for (let i = 0; i < k; i++)
            d += (rows[r * k + i] as number) * ((w[c * k + i] as number) - (dq[c * k + i] as number));
          e += d * d;
        }
      return e;
    };
    const rtn = outputError(dequantizeGroups(rtnGroupQuantize(w, k, columns, { bits: 4, blockSize: 32 })));
    const gptq = outputError(dequantizeGroups(await gptqQuantize(w, k, columns, rows, m, { bits: 4, blockSize: 32 })));
    const ordered = outputError(
      dequantizeGroups(await gptqQuantize(w, k, columns, rows, m, { bits: 4, blockSize: 32, actOrder: true })),
    );
    expect(gptq).toBeLessThan(0.5 * rtn);
    expect(ordered).toBeLessThan(0.5 * rtn);
  });
});
