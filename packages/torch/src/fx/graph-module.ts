import { ZeropointError } from "@zeropoint/core";
import { add, cat, flatten, mul, relu, relu6, reshape, sub } from "../autograd/ops.js";
import type { Tensor } from "../autograd/tensor.js";
import { inModule, Module } from "../nn/module.js";
import type { Argument, FxNode, Graph } from "./graph.js";

/** Functions a graph may call, by the names tracing records. */
const FUNCTIONS: Record<string, (...args: never[]) => unknown> = {
  add,
  sub,
  mul,
  relu,
  relu6,
  flatten,
  cat,
  reshape,
};

/**
 * torch.fx's GraphModule: the modules of `root` under their original dotted names, plus a graph
 * interpreted on every call. Attributes (`get_attr`) are plain values (scales, zero points).
 */
export class GraphModule extends Module {
  readonly attributes = new Map<string, number>();
  private readonly modules: Map<string, Module>;
  extraFunctions: Record<string, (...args: never[]) => unknown> = {};

  constructor(
    root: Module,
    readonly graph: Graph,
  ) {
    super();
    for (const [name, child] of root.namedChildren()) this.registerModule(name, child);
    this.modules = new Map(root.namedModules());
    this.training = root.training;
  }

  /** The module at a dotted path. */
  getSubmodule(target: string): Module {
    const m = this.modules.get(target);
    if (m === undefined) throw new ZeropointError("invalid-model", `graph refers to missing module ${target}`);
    return m;
  }

  /** Adds (or replaces) a module at a top-level or dotted path. */
  setSubmodule(target: string, module: Module): void {
    const parts = target.split(".");
    let parent: Module = this;
    for (const part of parts.slice(0, -1)) {
      const next = new Map(parent.namedChildren()).get(part);
      if (next === undefined) throw new ZeropointError("invalid-model", `no module ${target}`);
      parent = next;
    }
    parent.registerModule(parts[parts.length - 1] as string, module);
    this.modules.set(target, module);
  }

  forward(input: Tensor): Tensor {
    const env = new Map<FxNode, unknown>();
    const value = (a: Argument): unknown => {
      if (Array.isArray(a)) return a.map(value);
      if (typeof a === "object") return env.get(a as FxNode);
      return a;
    };
    for (const node of this.graph.nodes) {
      switch (node.op) {
        case "placeholder":
          env.set(node, input);
          break;
        case "get_attr": {
          const v = this.attributes.get(node.target);
          if (v === undefined)
            throw new ZeropointError("invalid-model", `graph reads missing attribute ${node.target}`);
          env.set(node, v);
          break;
        }
        case "call_module":
          env.set(
            node,
            inModule(node.target, () => this.getSubmodule(node.target).call(value(node.args[0] as Argument) as Tensor)),
          );
          break;
        case "call_function":
        case "call_method": {
          const fn = this.extraFunctions[node.target] ?? FUNCTIONS[node.target];
          if (fn === undefined)
            throw new ZeropointError("unsupported-op", `graph node ${node.name} calls unknown ${node.target}`);
          env.set(node, (fn as (...args: unknown[]) => unknown)(...node.args.map(value)));
          break;
        }
        case "output":
          return value(node.args[0] as Argument) as Tensor;
      }
    }
    throw new ZeropointError("invalid-model", "graph has no output node");
  }

  /** The graph as torch.fx prints it. */
  printGraph(): string {
    return this.graph.toString();
  }
}
