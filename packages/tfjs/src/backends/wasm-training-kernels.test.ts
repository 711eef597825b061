import * as tf from "@tensorflow/tfjs-core";
import { seededRandom } from "@zeropoint/test-helpers";
import { describe, expect, it } from "vitest";
import { useBackend } from "../../test-fixtures/tfjs-env.js";

interface Case {
  readonly x: [number, number, number, number];
  readonly k: [number, number];
  readonly out: number;
  readonly strides: [number, number];
  readonly pad: "same" | "valid";
  readonly dilations: [number, number];
}

const cases: Case[] = [
  { x: [2, 7, 6, 3], k: [3, 3], out: 4, strides: [1, 1], pad: "same", dilations: [1, 1] },
  { x: [1, 9, 9, 2], k: [3, 2], out: 5, strides: [2, 2], pad: "valid", dilations: [1, 1] },
  // tfjs has no gradients for dilated convolutions, so dilation cannot be exercised here.
  { x: [2, 8, 8, 2], k: [2, 2], out: 3, strides: [2, 2], pad: "same", dilations: [1, 1] },
  { x: [1, 10, 7, 4], k: [5, 3], out: 3, strides: [2, 1], pad: "same", dilations: [1, 1] },
];

function random(shape: number[], seed: number): Float32Array {
  const r = seededRandom(seed);
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r() * 2 - 1);
}

/** Gradients of sum(conv(x, w) * g) w.r.t. x and w, on the current backend. */
function grads(c: Case, depthwise: boolean, seed: number): Float32Array[] {
  const wShape = [c.k[0], c.k[1], c.x[3], depthwise ? 2 : c.out];
  const x = tf.tensor4d(random(c.x, seed), c.x);
  const w = tf.tensor4d(random(wShape, seed + 1), wShape as [number, number, number, number]);
  const f = (a: tf.Tensor, b: tf.Tensor) => {
    const y = depthwise
      ? tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.strides, c.pad, "NHWC", c.dilations)
      : tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.strides, c.pad, "NHWC", c.dilations);
    const g = tf.tensor(random(y.shape, seed + 2), y.shape);
    return tf.sum(tf.mul(y, g));
  };
  const [dx, dw] = tf.grads(f)([x, w]);
  const out = [dx?.dataSync() as Float32Array, dw?.dataSync() as Float32Array];
  tf.dispose([x, w, dx as tf.Tensor, dw as tf.Tensor]);
  return out;
}

describe("registerWasmTrainingKernels", () => {
  for (const depthwise of [false, true]) {
    for (const [i, c] of cases.entries()) {
      it(`${depthwise ? "depthwise" : "conv2d"} case ${i}: wasm gradients equal tfjs-backend-cpu's within 1e-5`, async () => {
        await useBackend("cpu");
        const expected = grads(c, depthwise, 10 * i);
        await useBackend("wasm");
        const got = grads(c, depthwise, 10 * i);
        for (const [k, e] of expected.entries()) {
          const g = got[k] as Float32Array;
          expect(g.length).toBe(e.length);
          // Float64 accumulation here vs float32 on cpu: relative differences of a few ulps.
          for (let j = 0; j < e.length; j++)
            expect(Math.abs((g[j] as number) - (e[j] as number))).toBeLessThan(
              1e-5 * Math.max(1, Math.abs(e[j] as number)),
            );
        }
      });
    }
  }
});
