import { describe, expect, it } from "vitest";
import type { QParams } from "../qparams/qparams.js";
import { dequantize, quantize } from "./quantize.js";

const qp = (scale: number, zeroPoint: number, dtype: "int8" | "uint8" = "int8"): QParams => ({
  scale: Float32Array.of(scale),
  zeroPoint: Int32Array.of(zeroPoint),
  dtype,
  qmin: dtype === "int8" ? -128 : 0,
  qmax: dtype === "int8" ? 127 : 255,
});

describe("quantize", () => {
  it("rounds ties per convention: half to even (pytorch, onnxruntime), away from zero (tflite)", () => {
    const x = Float32Array.of(0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999997);
    expect(Array.from(quantize(x, qp(1, 0), { convention: "onnxruntime" }))).toEqual([0, 2, 2, 0, -2, -2, 0]);
    expect(Array.from(quantize(x, qp(1, 0), { convention: "pytorch" }))).toEqual([0, 2, 2, 0, -2, -2, 0]);
    expect(Array.from(quantize(x, qp(1, 0), { convention: "tflite" }))).toEqual([1, 2, 3, -1, -2, -3, 0]);
  });

  it("saturates at the integer range and adds the zero point after rounding", () => {
    const x = Float32Array.of(-1000, 1000, 0, 2.5);
    expect(Array.from(quantize(x, qp(1, 10, "uint8")))).toEqual([0, 255, 10, 12]);
    expect(Array.from(quantize(x, qp(1, -3)))).toEqual([-128, 127, -3, -1]);
    // A huge quotient (tiny scale) is clamped before rounding, not wrapped.
    expect(Array.from(quantize(Float32Array.of(3e38, -3e38), qp(1e-30, 0)))).toEqual([127, -128]);
  });

  it("per-channel along any axis", () => {
    const params: QParams = {
      scale: Float32Array.of(1, 10),
      zeroPoint: Int32Array.of(0, 5),
      dtype: "int8",
      qmin: -128,
      qmax: 127,
      axis: 1,
    };
    const x = Float32Array.of(1, 10, 2, 20, 3, 30);
    const q = quantize(x, params, { shape: [3, 2] });
    expect(Array.from(q)).toEqual([1, 6, 2, 7, 3, 8]);
    expect(Array.from(dequantize(q, params, { shape: [3, 2] }))).toEqual([1, 10, 2, 20, 3, 30]);
  });

  it("rejects NaN and infinities with a typed error naming the element", () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      for (const convention of ["pytorch", "onnxruntime", "tflite"] as const) {
        expect(() => quantize(Float32Array.of(1, 2, bad, 3), qp(0.1, 0), { convention })).toThrow(
          expect.objectContaining({ code: "non-finite-data", details: { index: 2 } }),
        );
      }
    }
  });

  it("rejects inconsistent parameters and shapes", () => {
    expect(() => quantize(Float32Array.of(1), qp(0, 0))).toThrow(expect.objectContaining({ code: "invalid-argument" }));
    const perChannel: QParams = { ...qp(1, 0), scale: Float32Array.of(1, 2), zeroPoint: Int32Array.of(0, 0), axis: 0 };
    expect(() => quantize(Float32Array.of(1, 2, 3), perChannel)).toThrow(
      expect.objectContaining({ code: "invalid-shape" }),
    );
    expect(() => quantize(Float32Array.of(1, 2, 3), perChannel, { shape: [3] })).toThrow(
      expect.objectContaining({ code: "shape-mismatch" }),
    );
    expect(() => quantize(Float32Array.of(1, 2), perChannel, { shape: [2, 2] })).toThrow(
      expect.objectContaining({ code: "shape-mismatch" }),
    );
  });
});
