import { seededRandom } from "@zeropoint/test-helpers";
import { describe, expect, it } from "vitest";
import { adaptiveAvgPool2d, avgPool2d, conv2d, maxPool2d } from "./conv.js";
import { crossEntropy, mseLoss } from "./loss.js";
import { batchNorm2d } from "./norm.js";
import { add, cat, flatten, linear, matmul, mean, mul, relu, relu6, sub, sum } from "./ops.js";
import { Tensor } from "./tensor.js";

/**
 * Central finite differences against autograd for a scalar function of some tensors. Tensors are
 * float32, so h = 1e-2 and the tolerance is 2e-2 relative plus 2e-3 absolute; kinks (relu at 0,
 * pool ties) are avoided by the random data (continuous values).
 */
function gradCheck(inputs: Tensor[], f: (...t: Tensor[]) => Tensor): void {
  for (const t of inputs) t.grad = undefined;
  f(...inputs).backward();
  const h = 1e-2;
  for (const t of inputs) {
    if (!t.requiresGrad) continue;
    for (let i = 0; i < t.size; i++) {
      const orig = t.data[i] as number;
      t.data[i] = orig + h;
      const up = f(...inputs.map((x) => new Tensor(x.data, x.shape))).item();
      t.data[i] = orig - h;
      const down = f(...inputs.map((x) => new Tensor(x.data, x.shape))).item();
      t.data[i] = orig;
      const numeric = (up - down) / (2 * h);
      const analytic = (t.grad as Float32Array)[i] as number;
      expect(Math.abs(analytic - numeric)).toBeLessThanOrEqual(2e-2 * Math.max(1, Math.abs(numeric)) + 2e-3);
    }
  }
}

function random(shape: number[], seed: number, requiresGrad = true): Tensor {
  const rand = seededRandom(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(
    Float32Array.from({ length: n }, () => rand() * 2 - 1),
    shape,
    requiresGrad,
  );
}

/** A fixed random projection turns any output into a scalar with non-uniform weights. */
function project(t: Tensor, seed = 99): Tensor {
  return sum(mul(t, random(t.shape as number[], seed, false)));
}

describe("autograd gradients match finite differences", () => {
  for (let seed = 1; seed <= 4; seed++) {
    const rand = seededRandom(seed * 31);
    const dim = () => 1 + Math.floor(rand() * 4);
    it(`elementwise with broadcasting, matmul, linear, cat (seed ${seed})`, () => {
      const [m, k, n] = [dim(), dim(), dim()];
      gradCheck([random([m, k], seed), random([k], seed + 1)], (a, b) => project(add(a, b)));
      gradCheck([random([m, 1], seed), random([1, k], seed + 1)], (a, b) => project(mul(a, b)));
      gradCheck([random([m, k], seed), random([m, k], seed + 2)], (a, b) => project(sub(a, b)));
      gradCheck([random([m, k], seed), random([k, n], seed + 3)], (a, b) => project(matmul(a, b)));
      gradCheck([random([m, k], seed), random([n, k], seed + 4), random([n], seed + 5)], (x, w, b) =>
        project(linear(x, w, b)),
      );
      gradCheck([random([m, k], seed), random([m, n], seed + 6)], (a, b) => project(cat([a, b], 1)));
      gradCheck([random([m, k, 2], seed)], (a) => project(relu(flatten(a))));
      gradCheck([random([m, k], seed)], (a) =>
        mean(relu6(mul(a, new Tensor(new Float32Array(m * k).fill(8), [m, k])))),
      );
    });
    it(`conv2d with stride, padding, dilation, groups (seed ${seed})`, () => {
      const groups = 1 + Math.floor(rand() * 2);
      const c = groups * dim();
      const m = groups * dim();
      const x = random([2, c, 5 + Math.floor(rand() * 3), 5], seed);
      const w = random([m, c / groups, 3, 2], seed + 1);
      const b = random([m], seed + 2);
      const geometry = {
        strides: [1 + Math.floor(rand() * 2), 1] as const,
        pads: [1, 0, 1, 1] as const,
        dilations: [1, 1 + Math.floor(rand() * 2)] as const,
        group: groups,
      };
      gradCheck([x, w, b], (xx, ww, bb) => project(conv2d(xx, ww, bb, geometry)));
    });
    it(`pooling, batch norm (train and eval), losses (seed ${seed})`, () => {
      const x = random([2, 3, 6, 5], seed);
      // Max pooling has kinks at ties: use distinct values spaced well beyond the step h.
      const order = Array.from({ length: x.size }, (_, i) => i).sort(
        (i, j) => Math.sin(i * 12.9898 + seed) - Math.sin(j * 12.9898 + seed),
      );
      const separated = new Tensor(
        Float32Array.from(order, (v) => (v - x.size / 2) * 0.05),
        x.shape,
        true,
      );
      gradCheck([separated], (a) => project(maxPool2d(a, { kernel: [2, 2] })));
      gradCheck([x], (a) => project(avgPool2d(a, { kernel: [3, 2], stride: [2, 1], padding: [1, 0] })));
      gradCheck([x], (a) => project(adaptiveAvgPool2d(a, [4, 3])));
      for (const training of [true, false]) {
        gradCheck([x, random([3], seed + 1), random([3], seed + 2)], (a, wt, bs) =>
          project(
            batchNorm2d(
              a,
              wt,
              bs,
              { runningMean: new Float32Array(3), runningVar: new Float32Array(3).fill(1), momentum: 0.1, eps: 1e-5 },
              training,
            ),
          ),
        );
      }
      gradCheck([random([4, 5], seed)], (a) => crossEntropy(a, [0, 4, 2, 1]));
      gradCheck([random([4, 5], seed), random([4, 5], seed + 1)], (a, b) => mseLoss(a, b));
    });
  }

  it("accumulates into leaves used twice and rejects misuse with typed errors", () => {
    const a = Tensor.from([1, 2, 3], [3], true);
    sum(mul(a, a)).backward();
    expect(Array.from(a.grad as Float32Array)).toEqual([2, 4, 6]);
    expect(() => add(Tensor.zeros([2, 3]), Tensor.zeros([4]))).toThrow(
      expect.objectContaining({ code: "shape-mismatch" }),
    );
    expect(() => Tensor.zeros([2, 2]).backward()).toThrow(expect.objectContaining({ code: "invalid-state" }));
    expect(() => crossEntropy(Tensor.zeros([2, 3]), [0, 5])).toThrow(
      expect.objectContaining({ code: "invalid-argument" }),
    );
  });
});
