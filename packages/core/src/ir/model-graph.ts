import { ZeropointError } from "../errors/zeropoint-error.js";

/**
 * Ops of the neutral model graph: the common layers every adapter can build. Layout is NCHW (the
 * ONNX/PyTorch convention); adapters with other layouts (tfjs is NHWC) convert when they build.
 */
export const IR_OPS = [
  "conv2d",
  "depthwise-conv2d",
  "linear",
  "matmul",
  "batch-norm",
  "relu",
  "relu6",
  "leaky-relu",
  "sigmoid",
  "hard-sigmoid",
  "max-pool",
  "avg-pool",
  "global-avg-pool",
  "flatten",
  "reshape",
  "transpose",
  "add",
  "mul",
  "concat",
  "softmax",
  "layer-norm",
] as const;

/** One op of {@link IR_OPS}. */
export type IrOp = (typeof IR_OPS)[number];

/** A float32 weight. */
export interface IrWeight {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** Attribute values: integers, lists of integers, floats or strings. */
export type IrAttribute = number | readonly number[] | string;

/** Convolution attributes; `pads` is `[top, left, bottom, right]`. */
export interface IrConvAttributes {
  readonly strides?: readonly number[];
  readonly pads?: readonly number[];
  readonly dilations?: readonly number[];
  readonly group?: number;
}

/** Pooling attributes; `strides` default to `kernel`, `pads` to zeros. */
export interface IrPoolAttributes {
  readonly kernel: readonly number[];
  readonly strides?: readonly number[];
  readonly pads?: readonly number[];
}

/** No attributes. */
export type IrNoAttributes = Readonly<Record<never, never>>;

/**
 * The attributes of each op, typed: a node's `attributes` narrow with its `op`, so adapters read
 * `node.attributes.strides` as numbers without casts, and a producer cannot write a string where
 * a list of integers belongs.
 */
export interface IrAttributeMap {
  readonly conv2d: IrConvAttributes;
  readonly "depthwise-conv2d": IrConvAttributes;
  readonly linear: IrNoAttributes;
  readonly matmul: IrNoAttributes;
  readonly "batch-norm": { readonly epsilon: number };
  readonly relu: IrNoAttributes;
  readonly relu6: IrNoAttributes;
  readonly "leaky-relu": { readonly alpha: number };
  readonly sigmoid: IrNoAttributes;
  readonly "hard-sigmoid": { readonly alpha: number; readonly beta: number };
  readonly "max-pool": IrPoolAttributes;
  readonly "avg-pool": IrPoolAttributes;
  readonly "global-avg-pool": IrNoAttributes;
  readonly flatten: { readonly axis?: number };
  readonly reshape: { readonly shape: readonly number[] };
  readonly transpose: { readonly perm: readonly number[] };
  readonly add: IrNoAttributes;
  readonly mul: IrNoAttributes;
  readonly concat: { readonly axis: number };
  readonly softmax: { readonly axis?: number };
  readonly "layer-norm": { readonly axis?: number; readonly epsilon: number };
}

/** One node of a given op (of each op, for a union of ops). */
export type IrNodeOf<K extends IrOp> = K extends IrOp
  ? {
      readonly name: string;
      readonly op: K;
      readonly inputs: readonly string[];
      readonly output: string;
      readonly attributes: IrAttributeMap[K];
      readonly weights: Readonly<Record<string, IrWeight>>;
    }
  : never;

/**
 * One node: a union over the ops, discriminated by `op`. Weight names and layouts per op:
 * - `conv2d` / `depthwise-conv2d`: `weight` `[M, C/group, kH, kW]`, optional `bias` `[M]`.
 * - `linear`: `weight` `[out, in]` (PyTorch's layout), optional `bias` `[out]`.
 * - `batch-norm`: `scale`, `bias`, `mean`, `variance` `[C]`.
 * - `layer-norm`: `scale`, optional `bias`.
 * - `add` / `mul` take two inputs, or one input and a constant `other` weight.
 */
export type IrNode = { [K in IrOp]: IrNodeOf<K> }[IrOp];

/** A graph input: name and shape (`null` for a free batch dimension). */
export interface IrValue {
  readonly name: string;
  readonly shape: readonly (number | null)[];
}

/** A small, typed, framework-neutral model graph. Nodes are in topological order. */
export interface IrGraph {
  readonly name: string;
  readonly inputs: readonly IrValue[];
  readonly outputs: readonly string[];
  readonly nodes: readonly IrNode[];
}

const REQUIRED_WEIGHTS: Partial<Record<IrOp, readonly string[]>> = {
  conv2d: ["weight"],
  "depthwise-conv2d": ["weight"],
  linear: ["weight"],
  "batch-norm": ["scale", "bias", "mean", "variance"],
  "layer-norm": ["scale"],
};

/**
 * Checks an IR graph: known ops, topological order, every input defined, weight sizes matching their
 * shapes, required weights present. Throws `invalid-model` naming the node.
 */
export function validateIrGraph(graph: IrGraph): void {
  const defined = new Set(graph.inputs.map((i) => i.name));
  const ops = new Set<string>(IR_OPS);
  for (const node of graph.nodes) {
    const where = `IR node ${node.name} (${node.op})`;
    if (!ops.has(node.op))
      throw new ZeropointError("unsupported-op", `${where}: unknown op`, { details: { node: node.name } });
    for (const input of node.inputs) {
      if (!defined.has(input)) {
        throw new ZeropointError("invalid-model", `${where}: input ${input} is not defined before it`, {
          details: { node: node.name },
        });
      }
    }
    for (const w of REQUIRED_WEIGHTS[node.op] ?? []) {
      if (node.weights[w] === undefined)
        throw new ZeropointError("invalid-model", `${where}: missing weight ${w}`, { details: { node: node.name } });
    }
    for (const [name, w] of Object.entries(node.weights)) {
      const size = w.shape.reduce((a, b) => a * b, 1);
      if (size !== w.data.length) {
        throw new ZeropointError(
          "invalid-model",
          `${where}: weight ${name} has ${w.data.length} values for shape [${w.shape.join(", ")}]`,
          {
            details: { node: node.name },
          },
        );
      }
    }
    if (defined.has(node.output))
      throw new ZeropointError("invalid-model", `${where}: output ${node.output} is defined twice`);
    defined.add(node.output);
  }
  for (const o of graph.outputs)
    if (!defined.has(o)) throw new ZeropointError("invalid-model", `graph output ${o} is never computed`);
}

/** True when every node reads only the previous node's output (or the graph input, first). */
export function isChain(graph: IrGraph): boolean {
  let previous = graph.inputs[0]?.name;
  if (graph.inputs.length !== 1 || graph.outputs.length !== 1) return false;
  for (const node of graph.nodes) {
    if (node.inputs.length !== 1 || node.inputs[0] !== previous) return false;
    previous = node.output;
  }
  return graph.outputs[0] === previous;
}
