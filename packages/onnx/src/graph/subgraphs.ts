import type { OnnxGraph, OnnxNode } from "../model/onnx-schema.js";

/** The bodies a node carries: If's branches, Loop's and Scan's body (graph-valued attributes). */
export function subgraphsOf(node: OnnxNode): OnnxGraph[] {
  const out: OnnxGraph[] = [];
  for (const a of node.attribute) {
    if (a.g) out.push(a.g);
    for (const g of a.graphs ?? []) out.push(g);
  }
  return out;
}

/** Visits a graph and every body nested in it, depth first; `depth` is 0 for the main graph. */
export function forEachGraph(graph: OnnxGraph, visit: (graph: OnnxGraph, depth: number) => void, depth = 0): void {
  visit(graph, depth);
  for (const node of graph.node) for (const sub of subgraphsOf(node)) forEachGraph(sub, visit, depth + 1);
}
