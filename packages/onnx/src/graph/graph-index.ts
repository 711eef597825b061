import { ZeropointError } from "@zeropoint/core";
import {
  AttributeType,
  type OnnxAttribute,
  type OnnxGraph,
  type OnnxNode,
  type OnnxTensor,
  toNumber,
} from "../model/onnx-schema.js";

/** Lookups over a graph: who produces and who consumes each tensor, and the initializers. */
export class GraphIndex {
  readonly producers = new Map<string, OnnxNode>();
  readonly consumers = new Map<string, OnnxNode[]>();
  readonly initializers = new Map<string, OnnxTensor>();
  readonly graphInputs = new Set<string>();
  readonly graphOutputs = new Set<string>();
  private readonly names: Set<string>;
  private readonly nextSuffix = new Map<string, number>();

  /**
   * @param names a name set shared with other graphs' indexes (a model's If/Loop/Scan bodies), so
   *   names made in one graph never collide with names in another; default: this graph's own.
   */
  constructor(
    readonly graph: OnnxGraph,
    names?: Set<string>,
  ) {
    this.names = names ?? new Set<string>();
    for (const t of graph.initializer) {
      this.initializers.set(t.name ?? "", t);
      this.names.add(t.name ?? "");
    }
    for (const v of graph.input) {
      if (!this.initializers.has(v.name ?? "")) this.graphInputs.add(v.name ?? "");
      this.names.add(v.name ?? "");
    }
    for (const v of graph.output) this.graphOutputs.add(v.name ?? "");
    for (const node of graph.node) {
      if (node.name) this.names.add(node.name);
      for (const o of node.output) {
        if (o === "") continue;
        this.producers.set(o, node);
        this.names.add(o);
      }
      for (const i of node.input) {
        if (i === "") continue;
        const list = this.consumers.get(i);
        if (list) list.push(node);
        else this.consumers.set(i, [node]);
      }
    }
  }

  /** A name not used by any tensor or node, derived from `base`. */
  uniqueName(base: string): string {
    // The next suffix to try is remembered per base: emitters ask for the same base once per node
    // (a shared constant's `_quantized`, `QuantizeLinear`), and rescanning `_1.._k` every time made
    // a 100k-node graph quadratic.
    let k = this.nextSuffix.get(base) ?? 1;
    let name = k === 1 ? base : `${base}_${k - 1}`;
    while (this.names.has(name)) name = `${base}_${k++}`;
    this.nextSuffix.set(base, k);
    this.names.add(name);
    return name;
  }

  /** Marks a name as used. */
  reserve(name: string): void {
    this.names.add(name);
  }
}

/** Reads an attribute by name. */
export function getAttribute(node: OnnxNode, name: string): OnnxAttribute | undefined {
  return node.attribute.find((a) => a.name === name);
}

/** Integer attribute with a default. */
export function intAttribute(node: OnnxNode, name: string, fallback: number): number {
  const a = getAttribute(node, name);
  return a?.i === undefined || a.i === null ? fallback : toNumber(a.i);
}

/** Float attribute with a default. */
export function floatAttribute(node: OnnxNode, name: string, fallback: number): number {
  const a = getAttribute(node, name);
  return a?.f === undefined || a.f === null ? fallback : a.f;
}

/** Integer-list attribute with a default. */
export function intsAttribute(node: OnnxNode, name: string, fallback: number[]): number[] {
  const a = getAttribute(node, name);
  return a?.ints && a.ints.length > 0 ? a.ints.map(toNumber) : fallback;
}

/** Builds attributes for a new node. */
export function attributes(values: Record<string, number | number[] | string | { float: number }>): OnnxAttribute[] {
  return Object.entries(values).map(([name, v]) => {
    if (typeof v === "string") return { name, type: AttributeType.STRING, s: new TextEncoder().encode(v) };
    if (Array.isArray(v)) return { name, type: AttributeType.INTS, ints: v };
    if (typeof v === "object") return { name, type: AttributeType.FLOAT, f: v.float };
    return { name, type: AttributeType.INT, i: v };
  });
}

/** A node label for messages: its name, else its op type and first output. */
export function nodeLabel(node: OnnxNode): string {
  return node.name ? `${node.name} (${node.opType})` : `${node.opType} -> ${node.output[0] ?? "?"}`;
}

/** Checks the node list is in topological order; throws `invalid-model` naming the first node using an undefined input. */
export function checkTopologicalOrder(graph: OnnxGraph, label: string): void {
  const available = new Set<string>([
    ...graph.initializer.map((t) => t.name ?? ""),
    ...graph.input.map((v) => v.name ?? ""),
    "",
  ]);
  for (const node of graph.node) {
    for (const i of node.input) {
      if (!available.has(i)) {
        throw new ZeropointError(
          "invalid-model",
          `${label}: node ${nodeLabel(node)} reads ${i}, which nothing defines before it`,
          {
            details: { node: node.name },
          },
        );
      }
    }
    for (const o of node.output) available.add(o);
  }
}
