import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { computeQParams } from "../qparams/qparams.js";
import { dequantize, packInt4, quantize, unpackInt4 } from "./quantize.js";
import {
  multiplyByQuantizedMultiplier,
  quantizeMultiplier,
  roundingDivideByPOT,
  saturatingRoundingDoublingHighMul,
} from "./requantize.js";

const finite = fc.float({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 });

describe("quantize / dequantize properties", () => {
  it("dequantize(quantize(x)) is within scale/2 of x inside the representable range", () => {
    fc.assert(
      fc.property(
        fc.array(finite, { minLength: 1, maxLength: 64 }),
        fc.constantFrom("int8", "uint8", "int16", "uint16", "int4", "uint4"),
        fc.boolean(),
        fc.constantFrom("pytorch", "onnxruntime", "tflite"),
        (values, dtype, symmetric, convention) => {
          const x = Float32Array.from(values);
          let lo = Number.POSITIVE_INFINITY;
          let hi = Number.NEGATIVE_INFINITY;
          for (const v of x) {
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
          }
          const qp = computeQParams(lo, hi, { scheme: { dtype, symmetric }, convention });
          const back = dequantize(quantize(x, qp, { convention }), qp);
          const scale = qp.scale[0] as number;
          const min = (qp.qmin - (qp.zeroPoint[0] as number)) * scale;
          const max = (qp.qmax - (qp.zeroPoint[0] as number)) * scale;
          for (let i = 0; i < x.length; i++) {
            const v = x[i] as number;
            if (v < min || v > max) continue;
            // float32 rounding of x/scale adds at most a few ulps of |x| on top of scale/2.
            expect(Math.abs((back[i] as number) - v)).toBeLessThanOrEqual(scale / 2 + Math.abs(v) * 2e-7 + 1e-30);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("per-channel and per-group quantization round-trip within scale/2", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 4 }),
        (rows, cols, block) => {
          const x = new Float32Array(rows * cols).map((_, i) => Math.sin(i * 12.9898) * (1 + (i % cols)));
          const groups = Math.ceil(cols / block);
          const mins: number[] = [];
          const maxs: number[] = [];
          for (let r = 0; r < rows; r++) {
            for (let g = 0; g < groups; g++) {
              const seg = x.subarray(r * cols + g * block, r * cols + Math.min((g + 1) * block, cols));
              mins.push(Math.min(...seg));
              maxs.push(Math.max(...seg));
            }
          }
          const qp = computeQParams(mins, maxs, {
            scheme: { dtype: "int4", symmetric: true, granularity: "per-group", axis: 1, groupSize: block },
          });
          const q = quantize(x, qp, { shape: [rows, cols] });
          const back = dequantize(q, qp, { shape: [rows, cols] });
          for (let r = 0; r < rows; r++) {
            for (let c = 0; c < cols; c++) {
              const s = qp.scale[r * groups + Math.floor(c / block)] as number;
              expect(Math.abs((back[r * cols + c] as number) - (x[r * cols + c] as number))).toBeLessThanOrEqual(
                s / 2 + 1e-6,
              );
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it("int4 pack/unpack round-trips (signed and unsigned, odd lengths)", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -8, max: 7 }), { maxLength: 99 }), (values) => {
        const signed = Int8Array.from(values);
        expect(Array.from(unpackInt4(packInt4(signed), signed.length, true))).toEqual(values);
        const unsigned = Uint8Array.from(values, (v) => v + 8);
        expect(Array.from(unpackInt4(packInt4(unsigned), unsigned.length, false))).toEqual(Array.from(unsigned));
      }),
    );
    // Low nibble first, as onnxruntime's pack_bytes_to_4bit.
    expect(Array.from(packInt4(Int8Array.of(1, -1, 7)))).toEqual([0xf1, 0x07]);
  });
});

// BigInt reference of gemmlowp's fixed-point arithmetic, written from the C definitions.
function refHighMul(a: number, b: number): number {
  if (a === -2147483648 && b === -2147483648) return 2147483647;
  const ab = BigInt(a) * BigInt(b);
  const nudge = ab >= 0n ? 1n << 30n : 1n - (1n << 30n);
  return Number((ab + nudge) / (1n << 31n)); // BigInt division truncates toward zero, as C does
}
function refDivideByPOT(x: number, e: number): number {
  const mask = (1 << e) - 1;
  const remainder = x & mask;
  const threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> e) + (remainder > threshold ? 1 : 0);
}
function refMultiply(x: number, m: number, shift: number): number {
  const left = shift > 0 ? shift : 0;
  const right = shift > 0 ? 0 : -shift;
  const shifted = Number(BigInt.asIntN(32, BigInt(x) << BigInt(left)));
  return refDivideByPOT(refHighMul(shifted, m), right);
}

describe("fixed-point requantization is bit-exact to a BigInt reference", () => {
  const int32 = fc.integer({ min: -2147483648, max: 2147483647 });
  it("SaturatingRoundingDoublingHighMul", () => {
    fc.assert(
      fc.property(int32, int32, (a, b) => {
        expect(saturatingRoundingDoublingHighMul(a, b)).toBe(refHighMul(a, b));
      }),
      {
        numRuns: 20000,
      },
    );
    for (const [a, b] of [
      [-2147483648, -2147483648],
      [-2147483648, 2147483647],
      [2147483647, 2147483647],
      [0, -5],
      [-1, 1 << 30],
      [1, 1 << 30],
    ] as const) {
      expect(saturatingRoundingDoublingHighMul(a, b)).toBe(refHighMul(a, b));
    }
  });
  it("RoundingDivideByPOT", () => {
    fc.assert(
      fc.property(int32, fc.integer({ min: 0, max: 31 }), (x, e) => {
        expect(roundingDivideByPOT(x, e)).toBe(refDivideByPOT(x, e));
      }),
    );
  });
  it("MultiplyByQuantizedMultiplier over real multipliers", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -(2 ** 24), max: 2 ** 24 }),
        fc.double({ min: 1e-6, max: 100, noNaN: true }),
        (x, real) => {
          const { multiplier, shift } = quantizeMultiplier(real);
          const ours = multiplyByQuantizedMultiplier(x, multiplier, shift);
          expect(ours).toBe(refMultiply(x, multiplier, shift));
          // And it approximates x * real to within one unit (plus the multiplier's 2^-31 relative error)
          // wherever the left shift does not overflow int32 (it wraps in gemmlowp too: the BigInt check covers that).
          if (Math.abs(x) * 2 ** Math.max(shift, 0) >= 2 ** 31) return;
          expect(Math.abs(ours - x * real)).toBeLessThanOrEqual(1 + Math.abs(x * real) * 2 ** -30);
        },
      ),
      { numRuns: 20000 },
    );
  });
});
