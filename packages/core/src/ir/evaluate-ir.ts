import { ZeropointError } from "../errors/zeropoint-error.js";
import { conv2dFloat32 } from "../kernels/conv2d.js";
import { gemmFloat32 } from "../kernels/gemm.js";
import type { IrGraph, IrNode, IrNodeOf } from "./model-graph.js";

/** A float32 tensor in NCHW (or `[N, features]`) layout. */
export interface IrTensor {
  readonly data: Float32Array;
  readonly shape: readonly number[];
}

/** Ops {@link evaluateIr} computes. */
export const EVALUATED_IR_OPS = [
  "conv2d",
  "depthwise-conv2d",
  "linear",
  "relu",
  "relu6",
  "flatten",
  "max-pool",
  "global-avg-pool",
  "add",
] as const;

function input(values: Map<string, IrTensor>, node: IrNode, i = 0): IrTensor {
  const name = node.inputs[i] as string;
  const t = values.get(name);
  if (t === undefined) throw new ZeropointError("invalid-model", `IR node ${node.name}: input ${name} is not computed`);
  return t;
}

function conv(node: IrNodeOf<"conv2d" | "depthwise-conv2d">, x: IrTensor): IrTensor {
  const a = node.attributes;
  const w = node.weights.weight!;
  const r = conv2dFloat32({
    input: x.data,
    inputShape: x.shape as [number, number, number, number],
    weight: w.data,
    weightShape: w.shape as [number, number, number, number],
    ...(node.weights.bias ? { bias: node.weights.bias.data } : {}),
    strides: [a.strides?.[0] ?? 1, a.strides?.[1] ?? 1],
    pads: [a.pads?.[0] ?? 0, a.pads?.[1] ?? 0, a.pads?.[2] ?? 0, a.pads?.[3] ?? 0],
    dilations: [a.dilations?.[0] ?? 1, a.dilations?.[1] ?? 1],
    group: a.group ?? (node.op === "depthwise-conv2d" ? (x.shape[1] as number) : 1),
  });
  return { data: r.output, shape: r.shape };
}

function linear(node: IrNode, x: IrTensor): IrTensor {
  const w = node.weights.weight!;
  const [out, k] = w.shape as [number, number];
  const m = x.data.length / k;
  // IR weights are [out, in] (PyTorch); the GEMM takes B as [in, out].
  const b = new Float32Array(k * out);
  for (let o = 0; o < out; o++) for (let i = 0; i < k; i++) b[i * out + o] = w.data[o * k + i] as number;
  const data = gemmFloat32({
    a: x.data,
    b,
    m,
    k,
    n: out,
    ...(node.weights.bias ? { bias: node.weights.bias.data } : {}),
  });
  return { data, shape: [...x.shape.slice(0, -1), out] };
}

function maxPool(node: IrNodeOf<"max-pool">, x: IrTensor): IrTensor {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const a = node.attributes;
  const kh = a.kernel[0] ?? 1;
  const kw = a.kernel[1] ?? 1;
  const sh = a.strides?.[0] ?? kh;
  const sw = a.strides?.[1] ?? kw;
  const [pt, pl, pb, pr] = [a.pads?.[0] ?? 0, a.pads?.[1] ?? 0, a.pads?.[2] ?? 0, a.pads?.[3] ?? 0];
  const oh = Math.floor((h + pt + pb - kh) / sh) + 1;
  const ow = Math.floor((w + pl + pr - kw) / sw) + 1;
  const out = new Float32Array(n * c * oh * ow);
  for (let p = 0; p < n * c; p++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++) {
        let best = Number.NEGATIVE_INFINITY;
        for (let y = oy * sh - pt; y < oy * sh - pt + kh; y++)
          for (let xx = ox * sw - pl; xx < ox * sw - pl + kw; xx++)
            if (y >= 0 && y < h && xx >= 0 && xx < w) best = Math.max(best, x.data[(p * h + y) * w + xx] as number);
        out[(p * oh + oy) * ow + ox] = best;
      }
  return { data: out, shape: [n, c, oh, ow] };
}

function elementwise(x: IrTensor, f: (v: number) => number): IrTensor {
  const data = new Float32Array(x.data.length);
  for (let i = 0; i < data.length; i++) data[i] = f(x.data[i] as number);
  return { data, shape: x.shape };
}

function evaluateNode(node: IrNode, values: Map<string, IrTensor>): IrTensor {
  const x = input(values, node);
  switch (node.op) {
    case "conv2d":
    case "depthwise-conv2d":
      return conv(node, x);
    case "linear":
      return linear(node, x);
    case "relu":
      return elementwise(x, (v) => (v > 0 ? v : 0));
    case "relu6":
      return elementwise(x, (v) => Math.min(6, Math.max(0, v)));
    case "flatten": {
      const axis = node.attributes.axis ?? 1;
      const outer = x.shape.slice(0, axis).reduce((a, b) => a * b, 1);
      return { data: x.data, shape: [outer, x.data.length / outer] };
    }
    case "max-pool":
      return maxPool(node, x);
    case "global-avg-pool": {
      const [n, c, h, w] = x.shape as [number, number, number, number];
      const out = new Float32Array(n * c);
      for (let p = 0; p < n * c; p++) {
        let s = 0;
        for (let i = 0; i < h * w; i++) s += x.data[p * h * w + i] as number;
        out[p] = s / (h * w);
      }
      return { data: out, shape: [n, c, 1, 1] };
    }
    case "add": {
      const other = node.inputs[1] !== undefined ? input(values, node, 1).data : node.weights.other?.data;
      if (other === undefined || other.length !== x.data.length)
        throw new ZeropointError("unsupported-op", `IR node ${node.name}: add without a same-shaped operand`);
      const data = new Float32Array(x.data.length);
      for (let i = 0; i < data.length; i++) data[i] = (x.data[i] as number) + (other[i] as number);
      return { data, shape: x.shape };
    }
    default:
      throw new ZeropointError("unsupported-op", `IR node ${node.name}: evaluateIr does not compute ${node.op}`, {
        details: { node: node.name },
      });
  }
}

/**
 * Evaluates an IR graph in float32 with core's own kernels: the framework-neutral reference every
 * adapter's float build is checked against (conformance suite), and a float path for adapters that
 * have no runtime of their own. Returns every computed tensor when `keep` is set, else the outputs.
 */
export function evaluateIr(
  graph: IrGraph,
  inputs: Readonly<Record<string, IrTensor>>,
  keep?: ReadonlySet<string>,
): Map<string, IrTensor> {
  const values = new Map<string, IrTensor>();
  for (const i of graph.inputs) {
    const t = inputs[i.name];
    if (t === undefined) throw new ZeropointError("shape-mismatch", `evaluateIr: no value for input ${i.name}`);
    values.set(i.name, t);
  }
  for (const node of graph.nodes) values.set(node.output, evaluateNode(node, values));
  const wanted = keep ?? new Set(graph.outputs);
  return new Map([...values].filter(([k]) => wanted.has(k)));
}
