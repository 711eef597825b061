import { ZeropointError } from "@zeropoint/core";
import { result, type Tensor } from "./tensor.js";

/** Batch-norm state the op reads and (in training) updates in place. */
export interface BatchNormState {
  readonly runningMean: Float32Array;
  readonly runningVar: Float32Array;
  readonly momentum: number;
  readonly eps: number;
}

/**
 * 2-D batch normalization (F.batch_norm over N, H, W per channel). Training uses the batch's
 * biased variance to normalize and updates running statistics with the unbiased one, as PyTorch.
 */
export function batchNorm2d(x: Tensor, weight: Tensor, bias: Tensor, state: BatchNormState, training: boolean): Tensor {
  if (x.shape.length !== 4)
    throw new ZeropointError("invalid-shape", `batchNorm2d expects a 4-D input, got rank ${x.shape.length}`);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  if (weight.size !== c)
    throw new ZeropointError("shape-mismatch", `batchNorm2d has ${weight.size} channels, input has ${c}`);
  const hw = h * w;
  const count = n * hw;
  const mean = new Float64Array(c);
  const invStd = new Float64Array(c);
  if (training) {
    for (let ch = 0; ch < c; ch++) {
      let s = 0;
      for (let b = 0; b < n; b++) for (let p = 0; p < hw; p++) s += x.data[(b * c + ch) * hw + p] as number;
      const mu = s / count;
      let v = 0;
      for (let b = 0; b < n; b++)
        for (let p = 0; p < hw; p++) v += ((x.data[(b * c + ch) * hw + p] as number) - mu) ** 2;
      const biased = v / count;
      mean[ch] = mu;
      invStd[ch] = 1 / Math.sqrt(biased + state.eps);
      const unbiased = count > 1 ? v / (count - 1) : biased;
      state.runningMean[ch] = (1 - state.momentum) * (state.runningMean[ch] as number) + state.momentum * mu;
      state.runningVar[ch] = (1 - state.momentum) * (state.runningVar[ch] as number) + state.momentum * unbiased;
    }
  } else {
    for (let ch = 0; ch < c; ch++) {
      mean[ch] = state.runningMean[ch] as number;
      invStd[ch] = 1 / Math.sqrt((state.runningVar[ch] as number) + state.eps);
    }
  }
  const xhat = new Float32Array(x.size);
  const out = new Float32Array(x.size);
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++) {
      const base = (b * c + ch) * hw;
      for (let p = 0; p < hw; p++) {
        const v = ((x.data[base + p] as number) - (mean[ch] as number)) * (invStd[ch] as number);
        xhat[base + p] = v;
        out[base + p] = v * (weight.data[ch] as number) + (bias.data[ch] as number);
      }
    }
  return result(out, x.shape, [x, weight, bias], "batchnorm2d", (g) => {
    const gw = new Float32Array(c);
    const gb = new Float32Array(c);
    const gx = new Float32Array(x.size);
    for (let ch = 0; ch < c; ch++) {
      let sg = 0;
      let sgx = 0;
      for (let b = 0; b < n; b++)
        for (let p = 0; p < hw; p++) {
          const i = (b * c + ch) * hw + p;
          sg += g[i] as number;
          sgx += (g[i] as number) * (xhat[i] as number);
        }
      gw[ch] = sgx;
      gb[ch] = sg;
      const k = ((weight.data[ch] as number) * (invStd[ch] as number)) as number;
      for (let b = 0; b < n; b++)
        for (let p = 0; p < hw; p++) {
          const i = (b * c + ch) * hw + p;
          // Training: normalization statistics depend on x; eval: they are constants.
          gx[i] = training
            ? (k / count) * (count * (g[i] as number) - sg - (xhat[i] as number) * sgx)
            : k * (g[i] as number);
        }
    }
    return [gx, gw, gb];
  });
}
