import { ZeropointError } from "@zeropoint/core";
import { setTraceHook, Tensor } from "../autograd/tensor.js";
import {
  AdaptiveAvgPool2d,
  AvgPool2d,
  BatchNorm2d,
  Conv2d,
  Dropout,
  Flatten,
  Linear,
  MaxPool2d,
  ReLU,
  ReLU6,
} from "../nn/layers.js";
import type { Module } from "../nn/module.js";
import { Identity } from "../quantization/fuse.js";
import { type Argument, type FxNode, Graph } from "./graph.js";
import { GraphModule } from "./graph-module.js";

const LEAVES = [
  Linear,
  Conv2d,
  BatchNorm2d,
  ReLU,
  ReLU6,
  MaxPool2d,
  AvgPool2d,
  AdaptiveAvgPool2d,
  Flatten,
  Dropout,
  Identity,
];

/** Whether tracing records a module as one `call_module` node (torch.fx's leaf modules). */
export function isLeafModule(m: Module): boolean {
  return LEAVES.some((c) => m instanceof c);
}

/**
 * torch.fx's `symbolic_trace`: runs `root.forward` on a symbolic value, recording leaf-module calls
 * (`call_module`) and functional ops (`call_function`) into a {@link Graph}. Reading a traced value
 * (its data, shape or size) — data-dependent control flow — fails with `unsupported-op` naming the
 * module being traced, as FX's TraceError does.
 */
export function symbolicTrace(root: Module): GraphModule {
  const graph = new Graph();
  const names = new Map<Module, string>();
  for (const [name, m] of root.namedModules()) if (!names.has(m)) names.set(m, name);
  const nodeOf = new WeakMap<object, FxNode>();
  const stack: string[] = ["forward"];
  const proxy = (node: FxNode): Tensor => {
    const target = new Tensor(new Float32Array(1), [1]);
    const p = new Proxy(target, {
      get(t, prop, receiver) {
        if (prop === "data" || prop === "shape" || prop === "size" || prop === "item") {
          throw new ZeropointError(
            "unsupported-op",
            `symbolicTrace: ${stack[stack.length - 1]} reads the ${String(prop)} of traced value %${node.name}; data-dependent control flow cannot be traced`,
            { details: { module: stack[stack.length - 1], node: node.name } },
          );
        }
        return Reflect.get(t, prop, receiver);
      },
    });
    nodeOf.set(p, node);
    return p;
  };
  const toArgument = (a: unknown): Argument => {
    if (Array.isArray(a)) return a.map(toArgument);
    const n = typeof a === "object" && a !== null ? nodeOf.get(a) : undefined;
    if (n !== undefined) return n;
    if (typeof a === "number" || typeof a === "string" || typeof a === "boolean") return a;
    throw new ZeropointError(
      "unsupported-op",
      `symbolicTrace: ${stack[stack.length - 1]} passes a concrete tensor to an op`,
    );
  };
  const input = proxy(graph.create("placeholder", "x"));
  const previous = setTraceHook({
    isTraced: (v) => typeof v === "object" && v !== null && nodeOf.has(v),
    callFunction: (name, args) => proxy(graph.create("call_function", name, args.map(toArgument))),
    callModule: (module, x) => {
      const m = module as Module;
      const name = names.get(m);
      if (name === undefined || name === "" || !nodeOf.has(x)) return undefined;
      if (isLeafModule(m)) return proxy(graph.create("call_module", name, [toArgument(x)]));
      stack.push(name);
      try {
        return m.forward(x);
      } finally {
        stack.pop();
      }
    },
  });
  try {
    const out = root.forward(input);
    graph.create("output", "output", [toArgument(out)]);
  } finally {
    setTraceHook(previous);
  }
  return new GraphModule(root, graph);
}
