import {
  encodeOnnxModel,
  type MlasArithmetic,
  probeMlasArithmetic,
  referenceMatMulInteger,
  referenceQLinearConvAccumulators,
  seededRandom,
} from "@zeropoint/test-helpers";
import * as ort from "onnxruntime-node";
import { beforeAll, describe, expect, it } from "vitest";
import { conv2dInt8 } from "./conv2d.js";
import { dynamicQuantizeLinear } from "./dynamic-quantize-linear.js";
import { gemmInt8 } from "./gemm.js";
import { qlinearConv, qlinearMatMul } from "./qlinear.js";
import { requantizeFloat } from "./requantize.js";

// Every kernel is run against onnxruntime-node on >= 200 random cases, on every CPU. onnxruntime's
// arithmetic depends on the CPU: x86 without VNNI saturates uint8 × int8 pair sums in int16. So each
// test asserts two equalities: onnxruntime equals the MLAS reference for the arithmetic the probe
// found on this machine (test-helpers' mlas-reference), and core's kernel equals the exact
// reference. On an exact CPU the two say "core equals onnxruntime"; on a saturating one they say
// "onnxruntime saturates exactly as modelled, and core is the exact answer". Integer-only results
// must be equal; the QLinear ops requantize in float and MLAS may round its float multiplier
// product differently at ties, so onnxruntime vs the modelled requantization is allowed ±1 with
// > 99% exact (the tolerance), while core vs the exact reference is equal.
const CASES = 200;

let arithmetic: MlasArithmetic = { u8s8Saturates: false };
beforeAll(async () => {
  arithmetic = await probeMlasArithmetic(ort);
});

const sessionOptions: ort.InferenceSession.SessionOptions = {
  executionProviders: ["cpu"],
  graphOptimizationLevel: "disabled",
  intraOpNumThreads: 1,
};

function randomInt8(rand: () => number, length: number, signed: boolean): Int8Array | Uint8Array {
  const out = signed ? new Int8Array(length) : new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(rand() * 256) - (signed ? 128 : 0);
  return out;
}

function int(rand: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

async function run(
  model: Uint8Array,
  feeds: Record<string, ort.Tensor>,
): Promise<ort.InferenceSession.OnnxValueMapType> {
  const session = await ort.InferenceSession.create(model, sessionOptions);
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs((a[i] as number) - (b[i] as number)));
  return d;
}

/** uint8 requantization of int32 accumulators (core's float-multiplier rounding, ties to even). */
function requantizeOutput(
  acc: Int32Array,
  multiplier: number | Float32Array,
  zeroPoint: number,
  stride = 1,
): Uint8Array {
  const out = new Uint8Array(acc.length);
  requantizeFloat(acc, multiplier, { zeroPoint, qmin: 0, qmax: 255 }, out, stride);
  return out;
}

const elem = (signed: boolean): "int8" | "uint8" => (signed ? "int8" : "uint8");

describe("kernels vs onnxruntime-node", () => {
  it("the probe found the arithmetic the run expects (set by the emulated-CPU leg of CI)", () => {
    // `pnpm test:emulated` runs this file under qemu-user as a Zen 3 and sets the expectation, so a
    // probe that silently fell back to the host CPU fails here instead of testing the wrong kernel.
    const expected = process.env.ZEROPOINT_EXPECT_U8S8_SATURATION;
    if (expected !== undefined) expect(String(arithmetic.u8s8Saturates)).toBe(expected);
    expect(typeof arithmetic.u8s8Saturates).toBe("boolean");
  });

  it(`MatMulInteger is exact (${CASES} cases)`, async () => {
    const rand = seededRandom(1);
    for (let c = 0; c < CASES; c++) {
      const m = int(rand, 1, 6);
      // Depths past one 128-deep block exercise the lane splitting of the packed kernel.
      const k = int(rand, 1, 400);
      const n = int(rand, 1, 200);
      const aSigned = rand() < 0.5;
      const bSigned = rand() < 0.5;
      const a = randomInt8(rand, m * k, aSigned);
      const b = randomInt8(rand, k * n, bSigned);
      const za = int(rand, aSigned ? -128 : 0, aSigned ? 127 : 255);
      const zb = int(rand, bSigned ? -128 : 0, bSigned ? 127 : 255);
      const model = encodeOnnxModel({
        nodes: [{ opType: "MatMulInteger", inputs: ["A", "B", "za", "zb"], outputs: ["Y"] }],
        inputs: [
          { name: "A", elemType: elem(aSigned), dims: [m, k] },
          { name: "B", elemType: elem(bSigned), dims: [k, n] },
          { name: "za", elemType: elem(aSigned), dims: [] },
          { name: "zb", elemType: elem(bSigned), dims: [] },
        ],
        outputs: [{ name: "Y", elemType: "int32", dims: [m, n] }],
      });
      const feeds = {
        A: new ort.Tensor(elem(aSigned), a, [m, k]),
        B: new ort.Tensor(elem(bSigned), b, [k, n]),
        za: new ort.Tensor(elem(aSigned), aSigned ? Int8Array.of(za) : Uint8Array.of(za), []),
        zb: new ort.Tensor(elem(bSigned), bSigned ? Int8Array.of(zb) : Uint8Array.of(zb), []),
      };
      const fromOrt = (await run(model, feeds)).Y?.data as Int32Array;
      const args = { a, b, m, k, n, aZeroPoint: za, bZeroPoint: zb };
      expect(Array.from(fromOrt)).toEqual(Array.from(referenceMatMulInteger(args, arithmetic)));
      const actual = gemmInt8(args);
      expect(Array.from(actual)).toEqual(Array.from(referenceMatMulInteger(args)));
    }
  });

  it(`ConvInteger is exact (${CASES} cases)`, async () => {
    const rand = seededRandom(2);
    for (let c = 0; c < CASES; c++) {
      const group = int(rand, 1, 2);
      const cin = group * int(rand, 1, 3);
      const m = group * int(rand, 1, 3);
      const kh = int(rand, 1, 3);
      const kw = int(rand, 1, 3);
      const dh = int(rand, 1, 2);
      const dw = int(rand, 1, 2);
      const h = int(rand, kh * dh, 9);
      const w = int(rand, kw * dw, 9);
      const pads = [int(rand, 0, 2), int(rand, 0, 2), int(rand, 0, 2), int(rand, 0, 2)] as const;
      const strides = [int(rand, 1, 2), int(rand, 1, 2)] as const;
      const batch = int(rand, 1, 2);
      // onnxruntime's CPU ConvInteger implements uint8 x uint8 only.
      const x = randomInt8(rand, batch * cin * h * w, false);
      const wt = randomInt8(rand, m * (cin / group) * kh * kw, false);
      const zx = int(rand, 0, 255);
      const zw = int(rand, 0, 255);
      const { output, shape } = conv2dInt8({
        input: x,
        inputShape: [batch, cin, h, w],
        inputZeroPoint: zx,
        weight: wt,
        weightShape: [m, cin / group, kh, kw],
        weightZeroPoint: zw,
        strides,
        pads,
        dilations: [dh, dw],
        group,
      });
      const model = encodeOnnxModel({
        nodes: [
          {
            opType: "ConvInteger",
            inputs: ["X", "W", "zx", "zw"],
            outputs: ["Y"],
            attributes: { pads: [...pads], strides: [...strides], dilations: [dh, dw], group, kernel_shape: [kh, kw] },
          },
        ],
        inputs: [
          { name: "X", elemType: "uint8", dims: [batch, cin, h, w] },
          { name: "W", elemType: "uint8", dims: [m, cin / group, kh, kw] },
          { name: "zx", elemType: "uint8", dims: [] },
          { name: "zw", elemType: "uint8", dims: [] },
        ],
        outputs: [{ name: "Y", elemType: "int32", dims: shape }],
      });
      const result = await run(model, {
        X: new ort.Tensor("uint8", x, [batch, cin, h, w]),
        W: new ort.Tensor("uint8", wt, [m, cin / group, kh, kw]),
        zx: new ort.Tensor("uint8", Uint8Array.of(zx), []),
        zw: new ort.Tensor("uint8", Uint8Array.of(zw), []),
      });
      expect(result.Y?.dims).toEqual(shape);
      expect(Array.from(output)).toEqual(Array.from(result.Y?.data as Int32Array));
    }
  });

  it(`DynamicQuantizeLinear is exact (${CASES} cases)`, async () => {
    const rand = seededRandom(3);
    for (let c = 0; c < CASES; c++) {
      const n = int(rand, 1, 500);
      const x = new Float32Array(n);
      const spread = 10 ** (rand() * 6 - 3);
      const offset = (rand() - 0.5) * spread * 2 * (c % 3);
      for (let i = 0; i < n; i++) x[i] = (rand() - 0.5) * spread + offset;
      if (c % 10 === 0) x.fill(0);
      const model = encodeOnnxModel({
        nodes: [{ opType: "DynamicQuantizeLinear", inputs: ["X"], outputs: ["Y", "S", "Z"] }],
        inputs: [{ name: "X", elemType: "float", dims: [n] }],
        outputs: [
          { name: "Y", elemType: "uint8", dims: [n] },
          { name: "S", elemType: "float", dims: [] },
          { name: "Z", elemType: "uint8", dims: [] },
        ],
      });
      const result = await run(model, { X: new ort.Tensor("float32", x, [n]) });
      const ours = dynamicQuantizeLinear(x);
      expect(ours.scale).toBe((result.S as ort.Tensor).data[0]);
      expect(ours.zeroPoint).toBe((result.Z as ort.Tensor).data[0]);
      expect(Array.from(ours.y)).toEqual(Array.from(result.Y?.data as Uint8Array));
    }
  });

  it(`QLinearMatMul is within ±1 (${CASES} cases)`, async () => {
    const rand = seededRandom(4);
    let exact = 0;
    let total = 0;
    for (let c = 0; c < CASES; c++) {
      const m = int(rand, 1, 8);
      const k = int(rand, 1, 64);
      const n = int(rand, 1, 64);
      const signed = rand() < 0.5;
      const a = randomInt8(rand, m * k, false);
      const b = randomInt8(rand, k * n, signed);
      const aScale = Math.fround(10 ** (rand() * 2 - 3));
      const bScale = Math.fround(10 ** (rand() * 2 - 3));
      const yScale = Math.fround(aScale * bScale * Math.sqrt(k) * 40 * (0.5 + rand()));
      const za = int(rand, 0, 255);
      const zb = signed ? int(rand, -20, 20) : int(rand, 100, 155);
      const zy = int(rand, 0, 255);
      const model = encodeOnnxModel({
        nodes: [{ opType: "QLinearMatMul", inputs: ["A", "as", "az", "B", "bs", "bz", "ys", "yz"], outputs: ["Y"] }],
        inputs: [
          { name: "A", elemType: "uint8", dims: [m, k] },
          { name: "as", elemType: "float", dims: [] },
          { name: "az", elemType: "uint8", dims: [] },
          { name: "B", elemType: elem(signed), dims: [k, n] },
          { name: "bs", elemType: "float", dims: [] },
          { name: "bz", elemType: elem(signed), dims: [] },
          { name: "ys", elemType: "float", dims: [] },
          { name: "yz", elemType: "uint8", dims: [] },
        ],
        outputs: [{ name: "Y", elemType: "uint8", dims: [m, n] }],
      });
      const result = await run(model, {
        A: new ort.Tensor("uint8", a, [m, k]),
        as: new ort.Tensor("float32", Float32Array.of(aScale), []),
        az: new ort.Tensor("uint8", Uint8Array.of(za), []),
        B: new ort.Tensor(elem(signed), b, [k, n]),
        bs: new ort.Tensor("float32", Float32Array.of(bScale), []),
        bz: new ort.Tensor(elem(signed), signed ? Int8Array.of(zb) : Uint8Array.of(zb), []),
        ys: new ort.Tensor("float32", Float32Array.of(yScale), []),
        yz: new ort.Tensor("uint8", Uint8Array.of(zy), []),
      });
      const ours = qlinearMatMul(
        { data: a, scale: aScale, zeroPoint: za },
        { data: b, scale: bScale, zeroPoint: zb },
        m,
        k,
        n,
        { scale: yScale, zeroPoint: zy, signed: false },
      );
      const expected = result.Y?.data as Uint8Array;
      const args = { a, b, m, k, n, aZeroPoint: za, bZeroPoint: zb };
      const multiplier = Math.fround(Math.fround(aScale * bScale) / yScale);
      const modelled = requantizeOutput(referenceMatMulInteger(args, arithmetic), multiplier, zy);
      expect(maxAbsDiff(modelled, expected)).toBeLessThanOrEqual(1);
      for (let i = 0; i < modelled.length; i++) if (modelled[i] === expected[i]) exact++;
      total += modelled.length;
      expect(Array.from(ours)).toEqual(Array.from(requantizeOutput(referenceMatMulInteger(args), multiplier, zy)));
    }
    // The ±1 is for rare ties, not a systematic offset.
    expect(exact / total).toBeGreaterThan(0.99);
  });

  it(`QLinearConv (per-channel symmetric int8 weights) is within ±1 (${CASES} cases)`, async () => {
    const rand = seededRandom(5);
    let exact = 0;
    let total = 0;
    for (let c = 0; c < CASES; c++) {
      const group = int(rand, 1, 2);
      const cin = group * int(rand, 1, 3);
      const m = group * int(rand, 1, 4);
      const kh = int(rand, 1, 3);
      const kw = int(rand, 1, 3);
      const h = int(rand, kh, 8);
      const w = int(rand, kw, 8);
      const pads = [int(rand, 0, 1), int(rand, 0, 1), int(rand, 0, 1), int(rand, 0, 1)] as const;
      const strides = [int(rand, 1, 2), int(rand, 1, 2)] as const;
      const x = randomInt8(rand, cin * h * w, false);
      const wt = randomInt8(rand, m * (cin / group) * kh * kw, true);
      for (let i = 0; i < wt.length; i++) if (wt[i] === -128) wt[i] = -127;
      const xScale = Math.fround(10 ** (rand() * 2 - 3));
      const wScale = new Float32Array(m).map(() => Math.fround(10 ** (rand() * 2 - 3)));
      const bias = new Int32Array(m).map(() => int(rand, -5000, 5000));
      const fan = (cin / group) * kh * kw;
      const yScale = Math.fround(xScale * (wScale[0] as number) * Math.sqrt(fan) * 60 * (0.5 + rand()));
      const zx = int(rand, 0, 255);
      const zy = int(rand, 0, 255);
      const ours = qlinearConv({
        input: { data: x, scale: xScale, zeroPoint: zx },
        inputShape: [1, cin, h, w],
        weight: { data: wt, scale: wScale, zeroPoint: new Int32Array(m) },
        weightShape: [m, cin / group, kh, kw],
        bias,
        output: { scale: yScale, zeroPoint: zy, signed: false },
        strides,
        pads,
        group,
      });
      const model = encodeOnnxModel({
        nodes: [
          {
            opType: "QLinearConv",
            inputs: ["X", "xs", "xz", "W", "ws", "wz", "ys", "yz", "B"],
            outputs: ["Y"],
            attributes: { pads: [...pads], strides: [...strides], group, kernel_shape: [kh, kw] },
          },
        ],
        inputs: [
          { name: "X", elemType: "uint8", dims: [1, cin, h, w] },
          { name: "xs", elemType: "float", dims: [] },
          { name: "xz", elemType: "uint8", dims: [] },
          { name: "W", elemType: "int8", dims: [m, cin / group, kh, kw] },
          { name: "ws", elemType: "float", dims: [m] },
          { name: "wz", elemType: "int8", dims: [m] },
          { name: "ys", elemType: "float", dims: [] },
          { name: "yz", elemType: "uint8", dims: [] },
          { name: "B", elemType: "int32", dims: [m] },
        ],
        outputs: [{ name: "Y", elemType: "uint8", dims: ours.shape }],
      });
      const result = await run(model, {
        X: new ort.Tensor("uint8", x, [1, cin, h, w]),
        xs: new ort.Tensor("float32", Float32Array.of(xScale), []),
        xz: new ort.Tensor("uint8", Uint8Array.of(zx), []),
        W: new ort.Tensor("int8", wt, [m, cin / group, kh, kw]),
        ws: new ort.Tensor("float32", wScale, [m]),
        wz: new ort.Tensor("int8", new Int8Array(m), [m]),
        ys: new ort.Tensor("float32", Float32Array.of(yScale), []),
        yz: new ort.Tensor("uint8", Uint8Array.of(zy), []),
        B: new ort.Tensor("int32", bias, [m]),
      });
      const expected = result.Y?.data as Uint8Array;
      const convArgs = {
        x,
        xShape: [1, cin, h, w] as const,
        xZeroPoint: zx,
        w: wt,
        wShape: [m, cin / group, kh, kw] as const,
        wZeroPoint: new Int32Array(m),
        bias,
        strides,
        pads,
        group,
      };
      const multipliers = wScale.map((s) => Math.fround(Math.fround(xScale * s) / yScale));
      const positions = ours.shape[2] * ours.shape[3];
      const modelled = requantizeOutput(
        referenceQLinearConvAccumulators(convArgs, arithmetic).acc,
        multipliers,
        zy,
        positions,
      );
      expect(maxAbsDiff(modelled, expected)).toBeLessThanOrEqual(1);
      for (let i = 0; i < expected.length; i++) if (modelled[i] === expected[i]) exact++;
      total += expected.length;
      const exactAcc = referenceQLinearConvAccumulators(convArgs).acc;
      expect(Array.from(ours.output)).toEqual(Array.from(requantizeOutput(exactAcc, multipliers, zy, positions)));
    }
    expect(exact / total).toBeGreaterThan(0.99);
  });
});
