import { describe, expect, it } from "vitest";
import { ZeropointError } from "../errors/zeropoint-error.js";
import { resolveQuantRange } from "../scheme/scheme.js";
import { computeQParams } from "./qparams.js";

const f32 = Math.fround;

describe("resolveQuantRange", () => {
  it("follows each anchor's tables", () => {
    expect(resolveQuantRange({ dtype: "uint8", reduceRange: true }, "pytorch")).toEqual({ qmin: 0, qmax: 127 });
    expect(resolveQuantRange({ dtype: "int8", reduceRange: true }, "pytorch")).toEqual({ qmin: -64, qmax: 63 });
    expect(resolveQuantRange({ dtype: "int8", reduceRange: true }, "onnxruntime")).toEqual({ qmin: -64, qmax: 64 });
    expect(resolveQuantRange({ dtype: "uint8", symmetric: true }, "onnxruntime")).toEqual({ qmin: 0, qmax: 254 });
    expect(resolveQuantRange({ dtype: "int16", symmetric: true }, "onnxruntime")).toEqual({
      qmin: -32767,
      qmax: 32767,
    });
    expect(resolveQuantRange({ dtype: "int4", symmetric: true }, "onnxruntime")).toEqual({ qmin: -8, qmax: 7 });
    expect(resolveQuantRange({ dtype: "int8", narrowRange: true }, "tflite")).toEqual({ qmin: -127, qmax: 127 });
    expect(resolveQuantRange({ dtype: "int8", quantMin: -2, quantMax: 1 })).toEqual({ qmin: -2, qmax: 1 });
    expect(resolveQuantRange({ dtype: "uint8", quantMin: 0, quantMax: 255, reduceRange: true })).toEqual({
      qmin: 0,
      qmax: 127,
    });
  });

  it("rejects bad custom ranges with a typed error", () => {
    expect(() => resolveQuantRange({ dtype: "int8", quantMin: 1, quantMax: 5 })).toThrow(ZeropointError);
    expect(() => resolveQuantRange({ dtype: "int8", quantMin: -200, quantMax: 5 })).toThrow(/does not fit/);
    expect(() => resolveQuantRange({ dtype: "int8", quantMin: -2 })).toThrow(/both/);
  });
});

describe("computeQParams conventions (closed-form cases)", () => {
  it("pytorch affine: float32 scale, zp = qmin - round_half_even(min/scale)", () => {
    const qp = computeQParams(-1, 3, { scheme: { dtype: "uint8" }, convention: "pytorch" });
    // scale = f32(4 / 255); -1 / scale = -63.75 -> round -64 -> zp 64.
    expect(qp.scale[0]).toBe(f32(4 / 255));
    expect(qp.zeroPoint[0]).toBe(64);
  });

  it("pytorch symmetric: divisor (qmax - qmin) / 2 and zp 128 for full-range uint8", () => {
    const qp = computeQParams(-1, 3, { scheme: { dtype: "uint8", symmetric: true }, convention: "pytorch" });
    expect(qp.scale[0]).toBe(f32(3 / 127.5));
    expect(qp.zeroPoint[0]).toBe(128);
    const custom = computeQParams(-1, 3, { scheme: { dtype: "uint8", symmetric: true, quantMin: 0, quantMax: 15 } });
    expect(custom.zeroPoint[0]).toBe(7);
    const twoBit = computeQParams(-1, 0.5, { scheme: { dtype: "int8", symmetric: true, quantMin: -2, quantMax: 1 } });
    expect(twoBit.scale[0]).toBe(f32(1 / 1.5));
    expect(twoBit.zeroPoint[0]).toBe(0);
  });

  it("pytorch floors the scale at eps and returns (1, 0) for a never-observed range", () => {
    expect(computeQParams(0, 0, { scheme: { dtype: "uint8" } }).scale[0]).toBe(f32(2 ** -23));
    const empty = computeQParams(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, { scheme: { dtype: "uint8" } });
    expect([empty.scale[0], empty.zeroPoint[0]]).toEqual([1, 0]);
  });

  it("onnxruntime: symmetric table and zp round((qmin+qmax)/2), float64 scale, tiny fallback", () => {
    const sym = computeQParams(-1, 3, { scheme: { dtype: "uint8", symmetric: true }, convention: "onnxruntime" });
    expect(sym.scale[0]).toBe(f32(6 / 254));
    expect(sym.zeroPoint[0]).toBe(127);
    const asym = computeQParams(0.5, 2, { scheme: { dtype: "int8" }, convention: "onnxruntime" });
    // range widened to [0, 2]: scale 2/255, zp = round(-128 - 0) = -128.
    expect(asym.scale[0]).toBe(f32(2 / 255));
    expect(asym.zeroPoint[0]).toBe(-128);
    const tiny = computeQParams(0, 1e-39, { scheme: { dtype: "uint8" }, convention: "onnxruntime" });
    expect([tiny.scale[0], tiny.zeroPoint[0]]).toEqual([1, 0]);
    const minReal = computeQParams(0, 0, {
      scheme: { dtype: "uint8" },
      convention: "onnxruntime",
      minRealRange: 0.0001,
    });
    expect(minReal.scale[0]).toBe(f32(f32(0.0001) / 255));
  });

  // TFLite golden cases, computed by hand from TensorFlow's Nudge (fake_quant_ops_functor.h) and
  // TFMOT's symmetric range (quant_ops.py), as recorded in ../shared/anchors/pytorch-and-tensorflow.md §2.1-2.3.
  describe("tflite (hand-computed goldens)", () => {
    it("int8 activations [-1, 2]: scale 3/255, zero point from min 85 on 0..255 -> int8 -43", () => {
      // scale = f32(3/255) = 0.011764706; -(-1)/scale = 84.9999986 -> f32 85.0; round -> 85; 85 - 128 = -43.
      const qp = computeQParams(-1, 2, { scheme: { dtype: "int8" }, convention: "tflite" });
      expect(qp.scale[0]).toBe(f32(3 / 255));
      expect(qp.zeroPoint[0]).toBe(-43);
    });
    it("int8 narrow symmetric weights [-0.5, 0.25]: range [-0.5, 0.5] on 1..255, scale 1/254, zp 0", () => {
      const qp = computeQParams(-0.5, 0.25, {
        scheme: { dtype: "int8", symmetric: true, narrowRange: true },
        convention: "tflite",
      });
      expect(qp.scale[0]).toBe(f32(1 / 254));
      expect(qp.zeroPoint[0]).toBe(0);
      expect([qp.qmin, qp.qmax]).toEqual([-127, 127]);
    });
    it("positive-only range [0.5, 2] widens to [0, 2]: zp at the bottom of the grid", () => {
      const qp = computeQParams(0.5, 2, { scheme: { dtype: "int8" }, convention: "tflite" });
      expect(qp.scale[0]).toBe(f32(2 / 255));
      expect(qp.zeroPoint[0]).toBe(-128);
    });
    it("ties round away from zero: [-2.5/255*... ] zero point from min exactly 2.5 -> 3", () => {
      // min = -2.5 * s, max = 252.5 * s with s = 1/64 (exact in float32): zp_from_min = 2.5 -> 3 (std::round).
      const s = 1 / 64;
      const qp = computeQParams(-2.5 * s, 252.5 * s, { scheme: { dtype: "uint8" }, convention: "tflite" });
      expect(qp.scale[0]).toBe(s);
      expect(qp.zeroPoint[0]).toBe(3);
      // onnxruntime rounds the same tie to even.
      const ort = computeQParams(-2.5 * s, 252.5 * s, { scheme: { dtype: "uint8" }, convention: "onnxruntime" });
      expect(ort.zeroPoint[0]).toBe(2);
    });
  });

  it("per-channel parameters carry their axis", () => {
    const qp = computeQParams([-1, -2], [1, 4], {
      scheme: { dtype: "int8", symmetric: true, granularity: "per-channel", axis: 1 },
    });
    expect(qp.axis).toBe(1);
    expect(Array.from(qp.scale)).toEqual([f32(1 / 127.5), f32(4 / 127.5)]);
  });

  it("rejects NaN, infinite and inverted ranges with typed errors", () => {
    const scheme = { dtype: "uint8" } as const;
    expect(() => computeQParams(Number.NaN, 1, { scheme })).toThrow(
      expect.objectContaining({ code: "non-finite-data" }),
    );
    expect(() => computeQParams(0, Number.POSITIVE_INFINITY, { scheme, convention: "onnxruntime" })).toThrow(
      expect.objectContaining({ code: "non-finite-data" }),
    );
    expect(() => computeQParams(2, 1, { scheme })).toThrow(expect.objectContaining({ code: "invalid-range" }));
    expect(() => computeQParams([1, 2], [3], { scheme })).toThrow(expect.objectContaining({ code: "shape-mismatch" }));
    expect(() => computeQParams(0, 1, { scheme: { dtype: "int9" as "int8" } })).toThrow(
      expect.objectContaining({ code: "invalid-dtype" }),
    );
  });
});
