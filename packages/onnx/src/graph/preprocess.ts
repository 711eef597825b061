import { foldBatchNorm, ZeropointError } from "@zeropoint/core";
import { tensorBytes } from "../model/lazy-external.js";
import type { OnnxGraph, OnnxNode, OnnxTensor } from "../model/onnx-schema.js";
import { makeTensor, readFloat32, tensorDims } from "../model/tensor-data.js";
import { floatAttribute, GraphIndex, getAttribute, intAttribute, nodeLabel } from "./graph-index.js";

/**
 * Prepares a float graph for quantization, as onnxruntime's pre-processing would:
 * - `Constant` nodes holding tensors become initializers (weights exported as Constant nodes);
 * - `BatchNormalization` that directly follows a `Conv` whose output feeds nothing else is folded
 *   into the Conv's weights and bias (in float64, stored as float32);
 * - an `If` whose condition is a constant is replaced by the branch that always runs (as
 *   onnx-simplifier does), so every approach, static included, sees its nodes and can observe
 *   their activations; an If on a run-time condition stays (weight-only quantizes inside it);
 * - unnamed nodes get unique names, so plans and reports can refer to every node.
 * The graph is modified in place; callers work on a copy.
 */
export function preprocessGraph(graph: OnnxGraph): { constantsFolded: number; batchNormsFolded: number } {
  let constantsFolded = 0;
  const kept: OnnxNode[] = [];
  for (const node of graph.node) {
    const value = node.opType === "Constant" && (node.domain ?? "") === "" ? getAttribute(node, "value") : undefined;
    if (value?.t !== undefined && value.t !== null && node.output.length === 1) {
      graph.initializer.push({ ...value.t, name: node.output[0] as string });
      constantsFolded++;
      continue;
    }
    kept.push(node);
  }
  graph.node = kept;
  inlineConstantIfs(graph);
  const batchNormsFolded = foldBatchNorms(graph);
  const index = new GraphIndex(graph);
  for (const node of graph.node) if (!node.name) node.name = index.uniqueName(`${node.opType}_${node.output[0] ?? ""}`);
  return { constantsFolded, batchNormsFolded };
}

/** Replaces each `If` on a constant condition by the nodes of the branch it always takes. */
function inlineConstantIfs(graph: OnnxGraph): void {
  for (;;) {
    const index = new GraphIndex(graph);
    const at = graph.node.findIndex((n) => {
      if (n.opType !== "If" || (n.domain ?? "") !== "") return false;
      const condition = index.initializers.get(n.input[0] ?? "");
      return condition !== undefined && tensorDims(condition).reduce((a, b) => a * b, 1) === 1;
    });
    if (at < 0) return;
    const node = graph.node[at] as OnnxNode;
    const condition = index.initializers.get(node.input[0] as string) as OnnxTensor;
    const taken = conditionValue(condition) ? "then_branch" : "else_branch";
    const branch = getAttribute(node, taken)?.g;
    if (!branch) return;
    // Names the branch defines must not collide with the outer graph's (they would shadow).
    const outerNames = new Set<string>([...index.initializers.keys(), ...index.producers.keys(), ...index.graphInputs]);
    const defined = [...branch.initializer.map((t) => t.name ?? ""), ...branch.node.flatMap((n) => n.output)];
    if (defined.some((name) => name !== "" && outerNames.has(name))) return;
    // Branch output k becomes the If's output k.
    const rename = new Map<string, string>();
    const identities: OnnxNode[] = [];
    branch.output.forEach((o, k) => {
      const inner = o.name ?? "";
      const outer = node.output[k] as string;
      const producedInside = branch.node.some((n) => n.output.includes(inner));
      if (producedInside && !rename.has(inner)) rename.set(inner, outer);
      else
        identities.push({
          name: `${node.name ?? "If"}_output_${k}`,
          opType: "Identity",
          input: [rename.get(inner) ?? inner],
          output: [outer],
          attribute: [],
        } as OnnxNode);
    });
    const inlined = branch.node.map((n) => ({
      ...n,
      input: n.input.map((i) => rename.get(i) ?? i),
      output: n.output.map((o) => rename.get(o) ?? o),
    }));
    graph.initializer.push(...branch.initializer);
    graph.node.splice(at, 1, ...inlined, ...identities);
  }
}

function conditionValue(t: OnnxTensor): boolean {
  const raw = tensorBytes(t);
  if (raw !== undefined && raw.length > 0) return raw.some((b) => b !== 0);
  return (t.int32Data?.[0] ?? 0) !== 0;
}

function foldBatchNorms(graph: OnnxGraph): number {
  let folded = 0;
  for (;;) {
    const index = new GraphIndex(graph);
    const bn = graph.node.find((n) => {
      if (n.opType !== "BatchNormalization" || (n.domain ?? "") !== "" || n.output.length !== 1) return false;
      const producer = index.producers.get(n.input[0] ?? "");
      return (
        producer?.opType === "Conv" &&
        (index.consumers.get(producer.output[0] ?? "")?.length ?? 0) === 1 &&
        !index.graphOutputs.has(producer.output[0] ?? "") &&
        n.input.slice(1, 5).every((i) => index.initializers.has(i)) &&
        index.initializers.has(producer.input[1] ?? "") &&
        (producer.input[2] === undefined || producer.input[2] === "" || index.initializers.has(producer.input[2]))
      );
    });
    if (bn === undefined) return folded;
    const conv = index.producers.get(bn.input[0] ?? "") as OnnxNode;
    const [scale, shift, mean, variance] = bn.input
      .slice(1, 5)
      .map((i) => readFloat32(index.initializers.get(i) as OnnxTensor)) as [
      Float32Array,
      Float32Array,
      Float32Array,
      Float32Array,
    ];
    const eps = floatAttribute(bn, "epsilon", 1e-5);
    const weight = index.initializers.get(conv.input[1] as string) as OnnxTensor;
    const dims = tensorDims(weight);
    const w = readFloat32(weight);
    const channels = dims[0] as number;
    if (scale.length !== channels || intAttribute(bn, "training_mode", 0) !== 0) {
      throw new ZeropointError(
        "invalid-model",
        `cannot fold ${nodeLabel(bn)} into ${nodeLabel(conv)}: channel count mismatch`,
      );
    }
    const biasName = conv.input[2];
    const bias = biasName ? readFloat32(index.initializers.get(biasName) as OnnxTensor) : undefined;
    const { weight: newW, bias: newB } = foldBatchNorm({
      weight: w,
      ...(bias !== undefined ? { bias } : {}),
      gamma: scale,
      beta: shift,
      mean,
      variance,
      epsilon: eps,
      layout: "channels-first",
      arithmetic: "float64",
    });
    const wName = index.uniqueName(`${conv.input[1]}_bn_folded`);
    const bName = index.uniqueName(`${biasName || `${conv.name ?? "conv"}_bias`}_bn_folded`);
    graph.initializer.push(makeTensor(wName, dims, newW), makeTensor(bName, [channels], newB));
    conv.input = [conv.input[0] as string, wName, bName];
    conv.output = [bn.output[0] as string];
    graph.node = graph.node.filter((n) => n !== bn);
    pruneUnusedInitializers(graph);
    folded++;
  }
}

/** Drops initializers nothing reads (after folding), keeping graph inputs that name them. */
export function pruneUnusedInitializers(graph: OnnxGraph): void {
  const used = new Set<string>();
  const visit = (g: OnnxGraph) => {
    for (const n of g.node) {
      for (const i of n.input) used.add(i);
      for (const a of n.attribute) {
        if (a.g) visit(a.g);
        for (const sub of a.graphs ?? []) visit(sub);
      }
    }
    for (const o of g.output) used.add(o.name ?? "");
  };
  visit(graph);
  graph.initializer = graph.initializer.filter((t) => used.has(t.name ?? ""));
}
