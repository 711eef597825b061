import * as tf from "@tensorflow/tfjs-core";
// tfjs-core alone registers no gradients (its `dist/register_all_gradients` is ESM-only and cannot
// be imported from Node); tfjs-layers registers them all on import, in every module format.
import "@tensorflow/tfjs-layers";
import { fakeQuantize, type QParams, ZeropointError } from "@zeropoint/core";

/** Options for {@link fakeQuant}. */
export interface FakeQuantOpOptions {
  /** `tflite` (TF's `FakeQuantWithMinMaxVars`, default) or `pytorch` (`fake_quantize_per_tensor_affine`). */
  readonly convention?: "tflite" | "pytorch";
}

/**
 * Fake quantization as a differentiable tfjs op. The forward pass is core's `fakeQuantize` on the
 * tensor's values (so tfjs and the other adapters share one implementation, bit for bit); the
 * backward pass is the straight-through estimator with core's mask: the incoming gradient passes
 * where the value was inside the representable range and is zero where it was clipped. `tf.round`
 * cannot be used for this, its gradient is zero everywhere.
 *
 * Per-channel parameters (`qparams.axis`) apply along that axis of `x`.
 */
export function fakeQuant(x: tf.Tensor, qparams: QParams, options: FakeQuantOpOptions = {}): tf.Tensor {
  const convention = options.convention ?? "tflite";
  const forward = (t: tf.Tensor, save: tf.GradSaveFunc) => {
    const { output, mask } = fakeQuantize(t.dataSync() as Float32Array, qparams, { shape: t.shape, convention });
    const maskTensor = tf.tensor(Float32Array.from(mask), t.shape, "float32");
    save([maskTensor]);
    return {
      value: tf.tensor(output, t.shape, "float32"),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => tf.mul(dy as tf.Tensor, saved[0] as tf.Tensor),
    };
  };
  // customGrad's typing only describes variadic tensor arguments; the save callback comes last.
  return tf.customGrad(forward as unknown as Parameters<typeof tf.customGrad>[0])(x);
}

/**
 * Inference-only fake quantization (`tflite` convention, per-tensor) as tfjs ops on the current
 * backend, without reading the tensor back into JavaScript: `clip`, then
 * `floor((c - nudgedMin) · (1/s) + 0.5) · s + nudgedMin`. Every op rounds to float32 in the same
 * order as core's `fakeQuantize`, so the result is bit-identical to it (a test checks this on each
 * backend); it exists because reading activations back costs more than the model on wasm.
 */
export function fakeQuantInference(x: tf.Tensor, qparams: QParams): tf.Tensor {
  if (qparams.scale.length !== 1) throw new ZeropointError("invalid-argument", "fakeQuantInference is per-tensor only");
  const f32 = Math.fround;
  const scale = qparams.scale[0] as number;
  const zp = qparams.zeroPoint[0] as number;
  const nudgedMin = f32((qparams.qmin - zp) * scale);
  const nudgedMax = f32((qparams.qmax - zp) * scale);
  const inv = f32(1 / scale);
  return tf.tidy(() => {
    const shifted = tf.sub(tf.clipByValue(x, nudgedMin, nudgedMax), nudgedMin);
    const q = tf.floor(tf.add(tf.mul(shifted, inv), 0.5));
    return tf.add(tf.mul(q, scale), nudgedMin);
  });
}
