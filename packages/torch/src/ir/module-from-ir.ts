import {
  type IrGraph,
  type IrNode,
  type IrNodeOf,
  type IrWeight,
  isChain,
  validateIrGraph,
  ZeropointError,
} from "@zeropoint/core";
import {
  AdaptiveAvgPool2d,
  AvgPool2d,
  BatchNorm2d,
  Conv2d,
  Flatten,
  Linear,
  MaxPool2d,
  ReLU,
  ReLU6,
  Sequential,
} from "../nn/layers.js";
import type { Module, StateTensor } from "../nn/module.js";

/** A torch-style module built from an IR graph, and the module name of each IR node. */
export interface IrModule {
  readonly module: Sequential;
  /** IR node name → module name in the Sequential. */
  readonly moduleOf: ReadonlyMap<string, string>;
}

function notSupported(node: IrNode, why: string): ZeropointError {
  return new ZeropointError("unsupported-op", `torch cannot build IR node ${node.name} (${node.op}): ${why}`, {
    details: { node: node.name, op: node.op },
  });
}

function symmetricPads(node: IrNodeOf<"conv2d" | "depthwise-conv2d" | "max-pool" | "avg-pool">): [number, number] {
  const [t = 0, l = 0, b = 0, r = 0] = node.attributes.pads ?? [];
  if (t !== b || l !== r) throw notSupported(node, `asymmetric pads [${t}, ${l}, ${b}, ${r}]`);
  return [t, l];
}

/** A two-element attribute (strides, dilations, kernel) as a pair, its default when absent. */
function pair(v: readonly number[] | undefined, fallback: readonly [number, number]): [number, number] {
  return [v?.[0] ?? fallback[0], v?.[1] ?? fallback[1]];
}

function moduleName(name: string, used: Set<string>): string {
  let base = name.replace(/[^A-Za-z0-9_]+/g, "_").replace(/^_+|_+$/g, "") || "m";
  if (/^[0-9]/.test(base)) base = `m_${base}`;
  let candidate = base;
  for (let i = 2; used.has(candidate); i++) candidate = `${base}_${i}`;
  used.add(candidate);
  return candidate;
}

/**
 * Builds a `Sequential` with the IR graph's weights (NCHW, like the IR). Chain graphs only: each
 * node reads the previous node's output, which is what eager-mode quantization (fusion lists by
 * module name) and FX tracing of a Sequential expect.
 *
 * @throws ZeropointError `unsupported-op` for a branching graph or the first node without a module.
 */
export function moduleFromIr(graph: IrGraph): IrModule {
  validateIrGraph(graph);
  if (!isChain(graph))
    throw new ZeropointError("unsupported-op", `torch IR builder: ${graph.name} is not a chain of single-input nodes`);
  const used = new Set<string>();
  const entries: [string, Module][] = [];
  const state = new Map<string, StateTensor>();
  const moduleOf = new Map<string, string>();
  const put = (prefix: string, key: string, w: IrWeight | undefined) => {
    if (w !== undefined) state.set(`${prefix}.${key}`, { data: w.data, shape: [...w.shape] });
  };
  for (const node of graph.nodes) {
    const w = node.weights;
    const name = moduleName(node.name, used);
    let module: Module;
    switch (node.op) {
      case "conv2d":
      case "depthwise-conv2d": {
        const weight = w.weight as IrWeight;
        const [m, cPerGroup, kh, kw] = weight.shape as [number, number, number, number];
        const groups = node.attributes.group ?? 1;
        module = new Conv2d(cPerGroup * groups, m, [kh, kw], {
          stride: pair(node.attributes.strides, [1, 1]),
          padding: symmetricPads(node),
          dilation: pair(node.attributes.dilations, [1, 1]),
          groups,
          bias: w.bias !== undefined,
        });
        put(name, "weight", weight);
        put(name, "bias", w.bias);
        break;
      }
      case "linear": {
        const weight = w.weight as IrWeight;
        module = new Linear(weight.shape[1] as number, weight.shape[0] as number, { bias: w.bias !== undefined });
        put(name, "weight", weight);
        put(name, "bias", w.bias);
        break;
      }
      case "batch-norm": {
        const scale = w.scale as IrWeight;
        module = new BatchNorm2d(scale.shape[0] as number, { eps: node.attributes.epsilon });
        put(name, "weight", scale);
        put(name, "bias", w.bias);
        put(name, "running_mean", w.mean);
        put(name, "running_var", w.variance);
        state.set(`${name}.num_batches_tracked`, { data: new Float32Array(1), shape: [] });
        break;
      }
      case "relu":
        module = new ReLU();
        break;
      case "relu6":
        module = new ReLU6();
        break;
      case "max-pool":
      case "avg-pool": {
        const kernel = pair(node.attributes.kernel, [1, 1]);
        const stride = pair(node.attributes.strides, kernel);
        module =
          node.op === "max-pool"
            ? new MaxPool2d(kernel, stride, symmetricPads(node))
            : new AvgPool2d(kernel, stride, symmetricPads(node));
        break;
      }
      case "global-avg-pool":
        module = new AdaptiveAvgPool2d(1);
        break;
      case "flatten":
        if ((node.attributes.axis ?? 1) !== 1) throw notSupported(node, "flatten at an axis other than 1");
        module = new Flatten(1);
        break;
      default:
        throw notSupported(node, "no module mapping");
    }
    entries.push([name, module]);
    moduleOf.set(node.name, name);
  }
  const sequential = new Sequential(...entries);
  sequential.loadStateDict(state, false);
  return { module: sequential.eval(), moduleOf };
}
