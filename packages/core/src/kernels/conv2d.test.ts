import { seededRandom } from "@zeropoint/test-helpers";
import { describe, expect, it } from "vitest";
import { conv2dFloat32, conv2dInt8 } from "./conv2d.js";

describe("conv2dFloat32", () => {
  it("equals the int8 kernel on integer-valued data (same geometry handling)", () => {
    const rand = seededRandom(9);
    for (let c = 0; c < 50; c++) {
      const group = 1 + Math.floor(rand() * 2);
      const cin = group * (1 + Math.floor(rand() * 3));
      const m = group * (1 + Math.floor(rand() * 3));
      const x = Int8Array.from({ length: 2 * cin * 7 * 6 }, () => Math.floor(rand() * 256) - 128);
      const w = Int8Array.from({ length: m * (cin / group) * 9 }, () => Math.floor(rand() * 256) - 128);
      const geometry = { strides: [2, 1] as const, pads: [1, 0, 1, 2] as const, dilations: [1, 2] as const, group };
      const int = conv2dInt8({
        input: x,
        inputShape: [2, cin, 7, 6],
        weight: w,
        weightShape: [m, cin / group, 3, 3],
        ...geometry,
      });
      const flt = conv2dFloat32({
        input: Float32Array.from(x),
        inputShape: [2, cin, 7, 6],
        weight: Float32Array.from(w),
        weightShape: [m, cin / group, 3, 3],
        ...geometry,
      });
      expect(flt.shape).toEqual(int.shape);
      expect(Array.from(flt.output)).toEqual(Array.from(int.output));
    }
  });

  it("stays exact past one 128-row block (lane splitting), with extreme uint8 values and zero points", () => {
    // 40 channels x 3x3 = 360 rows; all-255 inputs with zero point 0 against weights 0 with zero
    // point 255 give the largest products the packed lanes must hold (sums reach 360 * 65025, past
    // float32's exact range, so the reference is a naive loop in float64).
    const [c, h, w, m] = [40, 9, 7, 3];
    for (const fill of [255, 0, 128]) {
      const x = new Uint8Array(c * h * w).fill(fill);
      const wt = new Uint8Array(m * c * 9).fill(255 - fill);
      const int = conv2dInt8({
        input: x,
        inputShape: [1, c, h, w],
        weight: wt,
        weightShape: [m, c, 3, 3],
        weightZeroPoint: 255,
        pads: [1, 1, 1, 1],
      });
      for (let oc = 0; oc < m; oc++) {
        for (let y = 0; y < h; y++) {
          for (let z = 0; z < w; z++) {
            let expected = 0;
            for (let ci = 0; ci < c; ci++) {
              for (let ky = 0; ky < 3; ky++) {
                for (let kx = 0; kx < 3; kx++) {
                  const iy = y - 1 + ky;
                  const ix = z - 1 + kx;
                  if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                  expected +=
                    (x[(ci * h + iy) * w + ix] as number) * ((wt[((oc * c + ci) * 3 + ky) * 3 + kx] as number) - 255);
                }
              }
            }
            expect(int.output[(oc * h + y) * w + z]).toBe(expected);
          }
        }
      }
    }
  });

  it("rejects inconsistent shapes with typed errors", () => {
    expect(() =>
      conv2dFloat32({
        input: new Float32Array(4),
        inputShape: [1, 1, 2, 2],
        weight: new Float32Array(9),
        weightShape: [1, 1, 3, 3],
      }),
    ).toThrow(expect.objectContaining({ code: "invalid-shape" }));
    expect(() =>
      conv2dInt8({
        input: new Int8Array(8),
        inputShape: [1, 2, 2, 2],
        weight: new Int8Array(3),
        weightShape: [1, 3, 1, 1],
      }),
    ).toThrow(expect.objectContaining({ code: "shape-mismatch" }));
  });
});

describe("gemmFloat32", () => {
  it("equals gemmInt8 on integer-valued data, with bias", async () => {
    const { gemmFloat32, gemmInt8 } = await import("./gemm.js");
    const rand = seededRandom(11);
    for (let c = 0; c < 30; c++) {
      const m = 1 + Math.floor(rand() * 5);
      const k = 1 + Math.floor(rand() * 300);
      const n = 1 + Math.floor(rand() * 300);
      const a = Int8Array.from({ length: m * k }, () => Math.floor(rand() * 256) - 128);
      const b = Int8Array.from({ length: k * n }, () => Math.floor(rand() * 256) - 128);
      const bias = Int32Array.from({ length: n }, () => Math.floor(rand() * 1000));
      const int = gemmInt8({ a, b, m, k, n, bias });
      const flt = gemmFloat32({
        a: Float32Array.from(a),
        b: Float32Array.from(b),
        m,
        k,
        n,
        bias: Float32Array.from(bias),
      });
      expect(Array.from(flt)).toEqual(Array.from(int));
    }
  });
});
