import { ZeropointError } from "../errors/zeropoint-error.js";
import type { QParams } from "../qparams/qparams.js";
import { forEachParamRun, paramLayout } from "./layout.js";

/** Options for {@link fakeQuantize}. */
export interface FakeQuantizeOptions {
  /** Tensor shape; required for per-channel parameters. */
  readonly shape?: readonly number[];
  /**
   * `pytorch` (`fake_quantize_per_tensor_affine`, cachemask kernel): `q = zp + nearbyint(x * (1/scale))`
   * with a float32 reciprocal, output `(clamp(q) - zp) * scale`, gradient mask `qmin <= q <= qmax`
   * on the rounded integer.
   * `tflite` (`FakeQuantWithMinMaxVars`): nudged range `[(qmin-zp)*s, (qmax-zp)*s]`, output
   * `floor((clamp(x) - min) / s + 0.5) * s + min`, gradient mask on the float input.
   * Default `pytorch`.
   */
  readonly convention?: "pytorch" | "tflite";
}

/** Output of a fake-quantize forward pass. */
export interface FakeQuantizeResult {
  readonly output: Float32Array;
  /** 1 where the gradient passes (straight-through estimator), 0 where it is clipped. */
  readonly mask: Uint8Array;
}

const f32 = Math.fround;

/** Quantize-dequantize in float, remembering the gradient mask for {@link fakeQuantizeBackward}. */
export function fakeQuantize(
  data: Float32Array,
  qparams: QParams,
  options: FakeQuantizeOptions = {},
): FakeQuantizeResult {
  const output = new Float32Array(data.length);
  const mask = new Uint8Array(data.length);
  const layout = paramLayout(qparams, data.length, options.shape);
  const convention = options.convention ?? "pytorch";
  const { qmin, qmax } = qparams;
  forEachParamRun(layout, qparams.groupSize !== undefined, (start, count, _stride, p) => {
    const scale = qparams.scale[p] as number;
    const zp = qparams.zeroPoint[p] as number;
    if (!(scale > 0) || !Number.isFinite(scale)) {
      throw new ZeropointError("invalid-argument", `scale ${p} must be positive and finite, got ${scale}`);
    }
    if (zp < qmin || zp > qmax) {
      throw new ZeropointError("invalid-argument", `zero point ${zp} lies outside ${qmin}..${qmax}`);
    }
    const end = start + count;
    if (convention === "pytorch") {
      const inv = f32(1 / scale);
      for (let i = start; i < end; i++) {
        const x = data[i] as number;
        if (Number.isNaN(x))
          throw new ZeropointError("non-finite-data", `input element ${i} is NaN`, { details: { index: i } });
        const v = f32(x * inv);
        let r = Math.round(v);
        if (r - v === 0.5 && r % 2 !== 0) r -= 1;
        const q = zp + r;
        const inside = q >= qmin && q <= qmax;
        mask[i] = inside ? 1 : 0;
        output[i] = ((inside ? q : q < qmin ? qmin : qmax) - zp) * scale;
      }
    } else {
      const nudgedMin = f32((qmin - zp) * scale);
      const nudgedMax = f32((qmax - zp) * scale);
      const inv = f32(1 / scale);
      for (let i = start; i < end; i++) {
        const x = data[i] as number;
        if (Number.isNaN(x))
          throw new ZeropointError("non-finite-data", `input element ${i} is NaN`, { details: { index: i } });
        const clamped = x < nudgedMin ? nudgedMin : x > nudgedMax ? nudgedMax : x;
        mask[i] = x >= nudgedMin && x <= nudgedMax ? 1 : 0;
        const shifted = f32(clamped - nudgedMin);
        output[i] = f32(f32(Math.floor(f32(f32(shifted * inv) + 0.5)) * scale) + nudgedMin);
      }
    }
  });
  return { output, mask };
}

/** Straight-through-estimator backward: `dx = dy * mask`. */
export function fakeQuantizeBackward(gradOutput: Float32Array, mask: Uint8Array): Float32Array {
  if (gradOutput.length !== mask.length) {
    throw new ZeropointError("shape-mismatch", `gradient has ${gradOutput.length} elements, mask ${mask.length}`);
  }
  const out = new Float32Array(gradOutput.length);
  for (let i = 0; i < out.length; i++) out[i] = mask[i] === 1 ? (gradOutput[i] as number) : 0;
  return out;
}
