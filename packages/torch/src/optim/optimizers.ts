import type { Tensor } from "../autograd/tensor.js";

/** torch.optim.SGD with momentum, dampening 0, optional weight decay. */
export class SGD {
  private readonly velocity = new Map<Tensor, Float32Array>();
  constructor(
    private readonly params: readonly Tensor[],
    private readonly options: { lr: number; momentum?: number; weightDecay?: number },
  ) {}
  zeroGrad(): void {
    for (const p of this.params) p.grad = undefined;
  }
  step(): void {
    const { lr, momentum = 0, weightDecay = 0 } = this.options;
    for (const p of this.params) {
      const g = p.grad;
      if (g === undefined) continue;
      let v = this.velocity.get(p);
      for (let i = 0; i < p.size; i++) {
        let d = (g[i] as number) + weightDecay * (p.data[i] as number);
        if (momentum !== 0) {
          if (v === undefined) {
            v = Float32Array.from(g, (x, k) => x + weightDecay * (p.data[k] as number));
            this.velocity.set(p, v);
            d = v[i] as number;
          } else {
            v[i] = momentum * (v[i] as number) + d;
            d = v[i] as number;
          }
        }
        p.data[i] = (p.data[i] as number) - lr * d;
      }
    }
  }
}

/** torch.optim.Adam (bias-corrected, L2 weight decay added to the gradient). */
export class Adam {
  private readonly m = new Map<Tensor, Float32Array>();
  private readonly v = new Map<Tensor, Float32Array>();
  private t = 0;
  constructor(
    private readonly params: readonly Tensor[],
    private readonly options: { lr?: number; betas?: [number, number]; eps?: number; weightDecay?: number } = {},
  ) {}
  zeroGrad(): void {
    for (const p of this.params) p.grad = undefined;
  }
  step(): void {
    const { lr = 1e-3, betas = [0.9, 0.999], eps = 1e-8, weightDecay = 0 } = this.options;
    this.t++;
    const c1 = 1 - betas[0] ** this.t;
    const c2 = 1 - betas[1] ** this.t;
    for (const p of this.params) {
      const g = p.grad;
      if (g === undefined) continue;
      const m = this.m.get(p) ?? new Float32Array(p.size);
      const v = this.v.get(p) ?? new Float32Array(p.size);
      this.m.set(p, m);
      this.v.set(p, v);
      for (let i = 0; i < p.size; i++) {
        const d = (g[i] as number) + weightDecay * (p.data[i] as number);
        m[i] = betas[0] * (m[i] as number) + (1 - betas[0]) * d;
        v[i] = betas[1] * (v[i] as number) + (1 - betas[1]) * d * d;
        p.data[i] = (p.data[i] as number) - (lr * ((m[i] as number) / c1)) / (Math.sqrt((v[i] as number) / c2) + eps);
      }
    }
  }
}
