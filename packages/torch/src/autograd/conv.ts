import { type Conv2dGeometry, conv2dOutputShape, gemmFloat32, ZeropointError } from "@zeropoint/core";
import { result, type Tensor } from "./tensor.js";

interface Geometry {
  c: number;
  h: number;
  w: number;
  cg: number;
  kh: number;
  kw: number;
  oh: number;
  ow: number;
  sh: number;
  sw: number;
  pt: number;
  pl: number;
  dh: number;
  dw: number;
}

function im2col(x: Float32Array, g: Geometry, b: number, group: number, col: Float32Array): void {
  const positions = g.oh * g.ow;
  for (let ci = 0; ci < g.cg; ci++) {
    const base = (b * g.c + group * g.cg + ci) * g.h * g.w;
    for (let y = 0; y < g.kh; y++) {
      for (let xk = 0; xk < g.kw; xk++) {
        const row = ((ci * g.kh + y) * g.kw + xk) * positions;
        for (let oy = 0; oy < g.oh; oy++) {
          const iy = oy * g.sh - g.pt + y * g.dh;
          for (let ox = 0; ox < g.ow; ox++) {
            const ix = ox * g.sw - g.pl + xk * g.dw;
            col[row + oy * g.ow + ox] =
              iy < 0 || iy >= g.h || ix < 0 || ix >= g.w ? 0 : (x[base + iy * g.w + ix] as number);
          }
        }
      }
    }
  }
}

function col2imAdd(col: Float32Array, g: Geometry, b: number, group: number, dx: Float32Array): void {
  const positions = g.oh * g.ow;
  for (let ci = 0; ci < g.cg; ci++) {
    const base = (b * g.c + group * g.cg + ci) * g.h * g.w;
    for (let y = 0; y < g.kh; y++) {
      for (let xk = 0; xk < g.kw; xk++) {
        const row = ((ci * g.kh + y) * g.kw + xk) * positions;
        for (let oy = 0; oy < g.oh; oy++) {
          const iy = oy * g.sh - g.pt + y * g.dh;
          if (iy < 0 || iy >= g.h) continue;
          for (let ox = 0; ox < g.ow; ox++) {
            const ix = ox * g.sw - g.pl + xk * g.dw;
            if (ix < 0 || ix >= g.w) continue;
            dx[base + iy * g.w + ix] = (dx[base + iy * g.w + ix] as number) + (col[row + oy * g.ow + ox] as number);
          }
        }
      }
    }
  }
}

/**
 * 2-D convolution, NCHW (PyTorch's F.conv2d): stride, zero padding, dilation and groups, with
 * gradients for input, weight and bias (im2col / col2im around float GEMMs).
 */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | undefined, geometry: Conv2dGeometry = {}): Tensor {
  if (x.shape.length !== 4)
    throw new ZeropointError("invalid-shape", `conv2d expects a 4-D NCHW input, got rank ${x.shape.length}`);
  const shape = conv2dOutputShape(x.shape, weight.shape, geometry);
  const [n, m, oh, ow] = shape;
  const group = geometry.group ?? 1;
  const [sh, sw] = geometry.strides ?? [1, 1];
  const [pt, pl] = geometry.pads ?? [0, 0, 0, 0];
  const [dh, dw] = geometry.dilations ?? [1, 1];
  const g: Geometry = {
    c: x.shape[1] as number,
    h: x.shape[2] as number,
    w: x.shape[3] as number,
    cg: weight.shape[1] as number,
    kh: weight.shape[2] as number,
    kw: weight.shape[3] as number,
    oh,
    ow,
    sh,
    sw,
    pt,
    pl,
    dh,
    dw,
  };
  const mg = m / group;
  const rows = g.cg * g.kh * g.kw;
  const positions = oh * ow;
  const out = new Float32Array(n * m * positions);
  const col = new Float32Array(rows * positions);
  for (let b = 0; b < n; b++) {
    for (let gi = 0; gi < group; gi++) {
      im2col(x.data, g, b, gi, col);
      const y = gemmFloat32({
        a: weight.data.subarray(gi * mg * rows, (gi + 1) * mg * rows),
        b: col,
        m: mg,
        k: rows,
        n: positions,
      });
      out.set(y, (b * m + gi * mg) * positions);
    }
  }
  if (bias)
    for (let b = 0; b < n; b++)
      for (let c = 0; c < m; c++) {
        const bv = bias.data[c] as number;
        const base = (b * m + c) * positions;
        for (let p = 0; p < positions; p++) out[base + p] = (out[base + p] as number) + bv;
      }
  const parents = bias ? [x, weight, bias] : [x, weight];
  return result(out, shape, parents, "conv2d", (gy) => {
    const gx = x.requiresGrad ? new Float32Array(x.size) : undefined;
    const gw = weight.requiresGrad ? new Float32Array(weight.size) : undefined;
    const colT = new Float32Array(positions * rows);
    for (let b = 0; b < n; b++) {
      for (let gi = 0; gi < group; gi++) {
        const dy = gy.subarray((b * m + gi * mg) * positions, (b * m + (gi + 1) * mg) * positions);
        if (gw) {
          im2col(x.data, g, b, gi, col);
          for (let r = 0; r < rows; r++)
            for (let p = 0; p < positions; p++) colT[p * rows + r] = col[r * positions + p] as number;
          const d = gemmFloat32({ a: dy, b: colT, m: mg, k: positions, n: rows });
          const offset = gi * mg * rows;
          for (let i = 0; i < d.length; i++) gw[offset + i] = (gw[offset + i] as number) + (d[i] as number);
        }
        if (gx) {
          const wg = weight.data.subarray(gi * mg * rows, (gi + 1) * mg * rows);
          const wt = new Float32Array(rows * mg);
          for (let o = 0; o < mg; o++) for (let r = 0; r < rows; r++) wt[r * mg + o] = wg[o * rows + r] as number;
          const dcol = gemmFloat32({ a: wt, b: dy, m: rows, k: mg, n: positions });
          col2imAdd(dcol, g, b, gi, gx);
        }
      }
    }
    let gb: Float32Array | undefined;
    if (bias?.requiresGrad) {
      gb = new Float32Array(m);
      for (let b = 0; b < n; b++)
        for (let c = 0; c < m; c++) {
          let s = 0;
          const base = (b * m + c) * positions;
          for (let p = 0; p < positions; p++) s += gy[base + p] as number;
          gb[c] = (gb[c] as number) + s;
        }
    }
    return [gx, gw, gb];
  });
}

/** Pooling window geometry. */
export interface PoolOptions {
  readonly kernel: readonly [number, number];
  readonly stride?: readonly [number, number];
  readonly padding?: readonly [number, number];
}

function poolShape(
  x: Tensor,
  o: PoolOptions,
): { oh: number; ow: number; sh: number; sw: number; ph: number; pw: number } {
  if (x.shape.length !== 4)
    throw new ZeropointError("invalid-shape", `pooling expects a 4-D NCHW input, got rank ${x.shape.length}`);
  const [kh, kw] = o.kernel;
  const [sh, sw] = o.stride ?? o.kernel;
  const [ph, pw] = o.padding ?? [0, 0];
  const oh = Math.floor(((x.shape[2] as number) + 2 * ph - kh) / sh) + 1;
  const ow = Math.floor(((x.shape[3] as number) + 2 * pw - kw) / sw) + 1;
  if (oh < 1 || ow < 1)
    throw new ZeropointError("invalid-shape", `pooling window larger than the input [${x.shape.join(", ")}]`);
  return { oh, ow, sh, sw, ph, pw };
}

/** Max pooling (PyTorch's F.max_pool2d, floor mode); the gradient goes to the first maximum. */
export function maxPool2d(x: Tensor, o: PoolOptions): Tensor {
  const { oh, ow, sh, sw, ph, pw } = poolShape(x, o);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const [kh, kw] = o.kernel;
  const out = new Float32Array(n * c * oh * ow);
  const arg = new Int32Array(out.length);
  for (let p = 0; p < n * c; p++) {
    for (let y = 0; y < oh; y++) {
      for (let xo = 0; xo < ow; xo++) {
        let best = Number.NEGATIVE_INFINITY;
        let at = -1;
        for (let i = 0; i < kh; i++) {
          const iy = y * sh - ph + i;
          if (iy < 0 || iy >= h) continue;
          for (let j = 0; j < kw; j++) {
            const ix = xo * sw - pw + j;
            if (ix < 0 || ix >= w) continue;
            const v = x.data[(p * h + iy) * w + ix] as number;
            if (v > best || Number.isNaN(v)) {
              best = v;
              at = (p * h + iy) * w + ix;
            }
          }
        }
        out[(p * oh + y) * ow + xo] = best;
        arg[(p * oh + y) * ow + xo] = at;
      }
    }
  }
  return result(out, [n, c, oh, ow], [x], "maxpool2d", (g) => {
    const gx = new Float32Array(x.size);
    for (let i = 0; i < g.length; i++) gx[arg[i] as number] = (gx[arg[i] as number] as number) + (g[i] as number);
    return [gx];
  });
}

/** Average pooling (F.avg_pool2d with count_include_pad=True). */
export function avgPool2d(x: Tensor, o: PoolOptions): Tensor {
  const { oh, ow, sh, sw, ph, pw } = poolShape(x, o);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const [kh, kw] = o.kernel;
  const inv = 1 / (kh * kw);
  const out = new Float32Array(n * c * oh * ow);
  const each = (fn: (outIndex: number, inIndex: number) => void) => {
    for (let p = 0; p < n * c; p++)
      for (let y = 0; y < oh; y++)
        for (let xo = 0; xo < ow; xo++) {
          for (let i = 0; i < kh; i++) {
            const iy = y * sh - ph + i;
            if (iy < 0 || iy >= h) continue;
            for (let j = 0; j < kw; j++) {
              const ix = xo * sw - pw + j;
              if (ix >= 0 && ix < w) fn((p * oh + y) * ow + xo, (p * h + iy) * w + ix);
            }
          }
        }
  };
  each((oi, ii) => {
    out[oi] = (out[oi] as number) + (x.data[ii] as number) * inv;
  });
  return result(out, [n, c, oh, ow], [x], "avgpool2d", (g) => {
    const gx = new Float32Array(x.size);
    each((oi, ii) => {
      gx[ii] = (gx[ii] as number) + (g[oi] as number) * inv;
    });
    return [gx];
  });
}

/** Adaptive average pooling to `[oh, ow]` (PyTorch's bin edges floor(i*H/oh) .. ceil((i+1)*H/oh)). */
export function adaptiveAvgPool2d(x: Tensor, size: readonly [number, number]): Tensor {
  if (x.shape.length !== 4)
    throw new ZeropointError("invalid-shape", `adaptive pooling expects a 4-D input, got rank ${x.shape.length}`);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const [oh, ow] = size;
  const out = new Float32Array(n * c * oh * ow);
  const cells: [number, number, number, number][] = [];
  for (let y = 0; y < oh; y++)
    for (let xo = 0; xo < ow; xo++) {
      cells.push([
        Math.floor((y * h) / oh),
        Math.ceil(((y + 1) * h) / oh),
        Math.floor((xo * w) / ow),
        Math.ceil(((xo + 1) * w) / ow),
      ]);
    }
  for (let p = 0; p < n * c; p++) {
    cells.forEach(([y0, y1, x0, x1], k) => {
      let s = 0;
      for (let y = y0; y < y1; y++) for (let xx = x0; xx < x1; xx++) s += x.data[(p * h + y) * w + xx] as number;
      out[p * oh * ow + k] = s / ((y1 - y0) * (x1 - x0));
    });
  }
  return result(out, [n, c, oh, ow], [x], "adaptiveavgpool2d", (g) => {
    const gx = new Float32Array(x.size);
    for (let p = 0; p < n * c; p++) {
      cells.forEach(([y0, y1, x0, x1], k) => {
        const v = (g[p * oh * ow + k] as number) / ((y1 - y0) * (x1 - x0));
        for (let y = y0; y < y1; y++)
          for (let xx = x0; xx < x1; xx++) gx[(p * h + y) * w + xx] = (gx[(p * h + y) * w + xx] as number) + v;
      });
    }
    return [gx];
  });
}
