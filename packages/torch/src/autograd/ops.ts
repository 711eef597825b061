import { gemmFloat32, shapeSize, ZeropointError } from "@zeropoint/core";
import { result, type Tensor, traced } from "./tensor.js";

/** NumPy/PyTorch broadcasting of two shapes. */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1)
      throw new ZeropointError("shape-mismatch", `cannot broadcast [${a.join(", ")}] with [${b.join(", ")}]`);
    out.push(Math.max(da, db));
  }
  return out;
}

/** For each output index, the index into an input of `shape` broadcast to `out`. */
function broadcastIndex(shape: readonly number[], out: readonly number[]): Int32Array {
  const n = shapeSize(out);
  const index = new Int32Array(n);
  const rank = out.length;
  const strides = new Array<number>(rank).fill(0);
  let s = 1;
  for (let i = rank - 1; i >= 0; i--) {
    const d = shape[shape.length - rank + i] ?? 1;
    strides[i] = d === 1 ? 0 : s;
    s *= d;
  }
  const counter = new Array<number>(rank).fill(0);
  let offset = 0;
  for (let k = 0; k < n; k++) {
    index[k] = offset;
    for (let i = rank - 1; i >= 0; i--) {
      counter[i] = (counter[i] as number) + 1;
      offset += strides[i] as number;
      if ((counter[i] as number) < (out[i] as number)) break;
      offset -= (strides[i] as number) * (out[i] as number);
      counter[i] = 0;
    }
  }
  return index;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function elementwise(
  a: Tensor,
  b: Tensor,
  name: string,
  f: (x: number, y: number) => number,
  da: (x: number, y: number, g: number) => number,
  db: (x: number, y: number, g: number) => number,
): Tensor {
  if (sameShape(a.shape, b.shape)) {
    const out = new Float32Array(a.size);
    for (let i = 0; i < out.length; i++) out[i] = f(a.data[i] as number, b.data[i] as number);
    return result(out, a.shape, [a, b], name, (g) => {
      const ga = new Float32Array(a.size);
      const gb = new Float32Array(b.size);
      for (let i = 0; i < g.length; i++) {
        ga[i] = da(a.data[i] as number, b.data[i] as number, g[i] as number);
        gb[i] = db(a.data[i] as number, b.data[i] as number, g[i] as number);
      }
      return [ga, gb];
    });
  }
  const shape = broadcastShape(a.shape, b.shape);
  const ia = broadcastIndex(a.shape, shape);
  const ib = broadcastIndex(b.shape, shape);
  const out = new Float32Array(shapeSize(shape));
  for (let i = 0; i < out.length; i++) out[i] = f(a.data[ia[i] as number] as number, b.data[ib[i] as number] as number);
  return result(out, shape, [a, b], name, (g) => {
    // Broadcast dimensions sum their gradients back onto the smaller input.
    const ga = new Float32Array(a.size);
    const gb = new Float32Array(b.size);
    for (let i = 0; i < g.length; i++) {
      const x = a.data[ia[i] as number] as number;
      const y = b.data[ib[i] as number] as number;
      ga[ia[i] as number] = (ga[ia[i] as number] as number) + da(x, y, g[i] as number);
      gb[ib[i] as number] = (gb[ib[i] as number] as number) + db(x, y, g[i] as number);
    }
    return [ga, gb];
  });
}

/** a + b (broadcasting). */
export function add(a: Tensor, b: Tensor): Tensor {
  const recorded = traced("add", [a, b]);
  if (recorded !== undefined) return recorded;
  return elementwise(
    a,
    b,
    "add",
    (x, y) => x + y,
    (_x, _y, g) => g,
    (_x, _y, g) => g,
  );
}

/** a - b (broadcasting). */
export function sub(a: Tensor, b: Tensor): Tensor {
  const recorded = traced("sub", [a, b]);
  if (recorded !== undefined) return recorded;
  return elementwise(
    a,
    b,
    "sub",
    (x, y) => x - y,
    (_x, _y, g) => g,
    (_x, _y, g) => -g,
  );
}

/** a * b (broadcasting). */
export function mul(a: Tensor, b: Tensor): Tensor {
  const recorded = traced("mul", [a, b]);
  if (recorded !== undefined) return recorded;
  return elementwise(
    a,
    b,
    "mul",
    (x, y) => x * y,
    (_x, y, g) => g * y,
    (x, _y, g) => g * x,
  );
}

/** a * s for a constant s. */
export function scale(a: Tensor, s: number): Tensor {
  const out = Float32Array.from(a.data, (v) => v * s);
  return result(out, a.shape, [a], "scale", (g) => [Float32Array.from(g, (v) => v * s)]);
}

/** Sum of all elements. */
export function sum(a: Tensor): Tensor {
  let s = 0;
  for (let i = 0; i < a.size; i++) s += a.data[i] as number;
  return result(Float32Array.of(s), [], [a], "sum", (g) => [new Float32Array(a.size).fill(g[0] as number)]);
}

/** Mean of all elements. */
export function mean(a: Tensor): Tensor {
  return scale(sum(a), 1 / a.size);
}

function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c] as number;
  return out;
}

/** Matrix product of 2-D tensors [m, k] x [k, n]. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.shape.length !== 2 || b.shape.length !== 2 || a.shape[1] !== b.shape[0]) {
    throw new ZeropointError("shape-mismatch", `matmul of [${a.shape.join(", ")}] and [${b.shape.join(", ")}]`);
  }
  const [m, k] = a.shape as [number, number];
  const n = b.shape[1] as number;
  const out = gemmFloat32({ a: a.data, b: b.data, m, k, n });
  return result(out, [m, n], [a, b], "matmul", (g) => [
    a.requiresGrad ? gemmFloat32({ a: g, b: transpose2d(b.data, k, n), m, k: n, n: k }) : undefined,
    b.requiresGrad ? gemmFloat32({ a: transpose2d(a.data, m, k), b: g, m: k, k: m, n }) : undefined,
  ]);
}

/** `x W^T + b` for x [n, in], W [out, in], b [out] (PyTorch's F.linear). */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor): Tensor {
  if (x.shape.length !== 2)
    throw new ZeropointError("invalid-shape", `linear expects a 2-D input, got rank ${x.shape.length}`);
  const [n, inFeatures] = x.shape as [number, number];
  const [outFeatures, wIn] = weight.shape as [number, number];
  if (wIn !== inFeatures)
    throw new ZeropointError("shape-mismatch", `linear: input has ${inFeatures} features, weight expects ${wIn}`);
  const wt = transpose2d(weight.data, outFeatures, inFeatures);
  const out = gemmFloat32({
    a: x.data,
    b: wt,
    m: n,
    k: inFeatures,
    n: outFeatures,
    ...(bias ? { bias: bias.data } : {}),
  });
  const parents = bias ? [x, weight, bias] : [x, weight];
  return result(out, [n, outFeatures], parents, "linear", (g) => {
    const gx = x.requiresGrad ? gemmFloat32({ a: g, b: weight.data, m: n, k: outFeatures, n: inFeatures }) : undefined;
    const gw = weight.requiresGrad
      ? gemmFloat32({ a: transpose2d(g, n, outFeatures), b: x.data, m: outFeatures, k: n, n: inFeatures })
      : undefined;
    let gb: Float32Array | undefined;
    if (bias?.requiresGrad) {
      gb = new Float32Array(outFeatures);
      for (let r = 0; r < n; r++)
        for (let c = 0; c < outFeatures; c++) gb[c] = (gb[c] as number) + (g[r * outFeatures + c] as number);
    }
    return [gx, gw, gb];
  });
}

/** max(x, 0). */
export function relu(x: Tensor): Tensor {
  const recorded = traced("relu", [x]);
  if (recorded !== undefined) return recorded;
  const out = Float32Array.from(x.data, (v) => (v > 0 ? v : 0));
  return result(out, x.shape, [x], "relu", (g) => [
    Float32Array.from(g, (v, i) => ((x.data[i] as number) > 0 ? v : 0)),
  ]);
}

/** min(max(x, 0), 6). */
export function relu6(x: Tensor): Tensor {
  const recorded = traced("relu6", [x]);
  if (recorded !== undefined) return recorded;
  const out = Float32Array.from(x.data, (v) => (v < 0 ? 0 : v > 6 ? 6 : v));
  return result(out, x.shape, [x], "relu6", (g) => [
    Float32Array.from(g, (v, i) => ((x.data[i] as number) > 0 && (x.data[i] as number) < 6 ? v : 0)),
  ]);
}

/** Same data, new shape (one dim may be -1). */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const recorded = traced("reshape", [x, shape]);
  if (recorded !== undefined) return recorded;
  const known = shape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const resolved = shape.map((d) => (d === -1 ? x.size / known : d));
  if (shapeSize(resolved) !== x.size)
    throw new ZeropointError("shape-mismatch", `cannot reshape [${x.shape.join(", ")}] to [${shape.join(", ")}]`);
  return result(x.data, resolved, [x], "reshape", (g) => [g]);
}

/** Flattens dims from `startDim` on (PyTorch's torch.flatten). */
export function flatten(x: Tensor, startDim = 1): Tensor {
  const recorded = traced("flatten", [x, startDim]);
  if (recorded !== undefined) return recorded;
  const head = x.shape.slice(0, startDim);
  return reshape(x, [
    ...head,
    x.size /
      Math.max(
        1,
        head.reduce((a, b) => a * b, 1),
      ),
  ]);
}

/** Concatenation along `dim`. */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  const recorded = traced("cat", [tensors, dim]);
  if (recorded !== undefined) return recorded;
  const first = tensors[0];
  if (first === undefined) throw new ZeropointError("invalid-argument", "cat needs at least one tensor");
  const rank = first.shape.length;
  const axis = dim < 0 ? dim + rank : dim;
  for (const t of tensors) {
    if (t.shape.length !== rank || t.shape.some((d, i) => i !== axis && d !== first.shape[i])) {
      throw new ZeropointError(
        "shape-mismatch",
        `cat: shapes [${first.shape.join(", ")}] and [${t.shape.join(", ")}] differ outside dim ${axis}`,
      );
    }
  }
  const outer = first.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = first.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const total = tensors.reduce((s, t) => s + (t.shape[axis] as number), 0);
  const out = new Float32Array(outer * total * inner);
  let offset = 0;
  const offsets: number[] = [];
  for (const t of tensors) {
    offsets.push(offset);
    const len = (t.shape[axis] as number) * inner;
    for (let o = 0; o < outer; o++)
      out.set(t.data.subarray(o * len, (o + 1) * len), o * total * inner + offset * inner);
    offset += t.shape[axis] as number;
  }
  const shape = [...first.shape];
  shape[axis] = total;
  return result(out, shape, tensors, "cat", (g) =>
    tensors.map((t, k) => {
      const len = (t.shape[axis] as number) * inner;
      const gt = new Float32Array(t.size);
      for (let o = 0; o < outer; o++)
        gt.set(
          g.subarray(
            o * total * inner + (offsets[k] as number) * inner,
            o * total * inner + (offsets[k] as number) * inner + len,
          ),
          o * len,
        );
      return gt;
    }),
  );
}

/** Inverted dropout: zeroes with probability p and scales by 1/(1-p) in training. */
export function dropout(x: Tensor, p: number, training: boolean, random: () => number): Tensor {
  if (!training || p === 0) return x;
  if (!(p >= 0 && p < 1))
    throw new ZeropointError("invalid-argument", `dropout probability must be in [0, 1), got ${p}`);
  const keep = new Uint8Array(x.size);
  const s = 1 / (1 - p);
  const out = new Float32Array(x.size);
  for (let i = 0; i < x.size; i++) {
    keep[i] = random() >= p ? 1 : 0;
    out[i] = keep[i] ? (x.data[i] as number) * s : 0;
  }
  return result(out, x.shape, [x], "dropout", (g) => [Float32Array.from(g, (v, i) => (keep[i] ? v * s : 0))]);
}
