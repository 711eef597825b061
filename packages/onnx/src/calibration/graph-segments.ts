import { ZeropointError } from "@zeropoint/core";
import type { OnnxGraph, OnnxModel, OnnxNode, OnnxTensor, OnnxValueInfo } from "../model/onnx-schema.js";
import type { loadOnnxruntime } from "../runtime/onnxruntime.js";
import { sessionModel } from "../runtime/session-model.js";

type Ort = Awaited<ReturnType<typeof loadOnnxruntime>>;
type Session = Awaited<ReturnType<Ort["InferenceSession"]["create"]>>;

/**
 * Above this many exposed tensors, calibration runs the graph in segments. onnxruntime's session
 * creation grows faster than linearly with the number of graph outputs (measured with
 * onnxruntime-node 1.30 on a 100,000-node Add chain: 2.9 s with one output, 5.1 s with 4,096,
 * 33 s with 16,384), so exposing every tensor of a very large graph at once is what made it slow.
 */
export const SEGMENT_THRESHOLD = 4096;
/** Nodes per segment: small sessions, few outputs each, so creation stays linear overall. */
export const SEGMENT_NODES = 2048;

/** ONNX element type codes of the runtime tensor types a segment input can carry. */
export const ELEM_TYPE: Readonly<Record<string, number>> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  uint16: 4,
  int16: 5,
  int32: 6,
  int64: 7,
  string: 8,
  bool: 9,
  float16: 10,
  float64: 11,
  uint32: 12,
  uint64: 13,
};

/** Names a node reads, including outer-scope names its subgraphs (If/Loop/Scan bodies) read. */
function reads(node: OnnxNode): string[] {
  const out = node.input.filter((i) => i !== "");
  for (const a of node.attribute)
    for (const g of [...(a.g ? [a.g] : []), ...(a.graphs ?? [])]) out.push(...outerReads(g));
  return out;
}

export function outerReads(graph: OnnxGraph): string[] {
  const local = new Set<string>([
    ...graph.input.map((v) => v.name ?? ""),
    ...graph.initializer.map((t) => t.name ?? ""),
  ]);
  const out: string[] = [];
  for (const node of graph.node) {
    for (const name of reads(node)) if (!local.has(name)) out.push(name);
    for (const o of node.output) local.add(o);
  }
  return out;
}

/** One segment: a model of a slice of the nodes, with its inputs and the outputs others need. */
export interface GraphSegment {
  readonly session: Session;
  /** Tensors it reads that come from the graph's inputs or earlier segments. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Inputs no later segment reads: dropped once this segment has run. */
  readonly release: readonly string[];
  /** Element type of each output, as onnxruntime reports it. */
  readonly types: ReadonlyMap<string, string>;
}

/**
 * Cuts a model into consecutive segments of at most {@link SEGMENT_NODES} nodes (ONNX lists nodes
 * in topological order), each exposing the `wanted` tensors it computes plus those later segments
 * read. Segment inputs are typed from the previous segments' output types (onnxruntime infers
 * them), so no data is needed to build them.
 */
export async function buildSegments(
  ort: Ort,
  model: OnnxModel,
  wanted: ReadonlySet<string>,
  segmentNodes = SEGMENT_NODES,
): Promise<GraphSegment[]> {
  const graph = model.graph as OnnxGraph;
  const initializers = new Map<string, OnnxTensor>(graph.initializer.map((t) => [t.name ?? "", t]));
  const graphInputs = new Map<string, OnnxValueInfo>(graph.input.map((v) => [v.name ?? "", v]));
  const chunks: OnnxNode[][] = [];
  for (let i = 0; i < graph.node.length; i += segmentNodes) chunks.push(graph.node.slice(i, i + segmentNodes));
  // What each node reads, computed once (subgraph bodies are walked here only).
  const readsOf = new Map<OnnxNode, string[]>(graph.node.map((n) => [n, reads(n)]));
  // Which chunk reads a tensor last: a segment exposes what any later chunk reads.
  const lastReader = new Map<string, number>();
  chunks.forEach((nodes, c) => {
    for (const n of nodes) for (const r of readsOf.get(n) as string[]) lastReader.set(r, c);
  });
  const graphOutputs = new Set(graph.output.map((o) => o.name ?? ""));
  const types = new Map<string, string>();
  for (const [name, v] of graphInputs) {
    const elem = v.type?.tensorType?.elemType;
    if (elem !== undefined) types.set(name, Object.keys(ELEM_TYPE).find((k) => ELEM_TYPE[k] === elem) ?? "float32");
  }
  const segments: GraphSegment[] = [];
  try {
    for (const [c, nodes] of chunks.entries()) {
      const produced = new Set(nodes.flatMap((n) => n.output).filter((o) => o !== ""));
      const inputs: string[] = [];
      const used = new Set<string>();
      const segmentInitializers = new Map<string, OnnxTensor>();
      for (const n of nodes) {
        for (const r of readsOf.get(n) as string[]) {
          const init = initializers.get(r);
          if (init !== undefined) segmentInitializers.set(r, init);
          if (produced.has(r) || used.has(r) || init !== undefined) continue;
          used.add(r);
          inputs.push(r);
        }
      }
      const outputs = [...produced].filter(
        (o) => wanted.has(o) || graphOutputs.has(o) || (lastReader.get(o) ?? -1) > c,
      );
      const segmentModel: OnnxModel = {
        ...model,
        graph: {
          ...graph,
          name: `${graph.name ?? "graph"}_segment_${c}`,
          node: nodes,
          initializer: [...segmentInitializers.values()],
          input: inputs.map((name) => {
            const original = graphInputs.get(name);
            if (original !== undefined) return original;
            const type = types.get(name);
            if (type === undefined || ELEM_TYPE[type] === undefined) {
              throw new ZeropointError(
                "invalid-model",
                `tensor ${name} crosses a calibration segment with an unknown type`,
              );
            }
            return { name, type: { tensorType: { elemType: ELEM_TYPE[type] } } } as OnnxValueInfo;
          }),
          output: outputs.map((name) => ({ name })),
          valueInfo: [],
        },
      };
      let session: Session;
      const opened = sessionModel(segmentModel as OnnxModel);
      try {
        session = await ort.InferenceSession.create(opened.source as never, {
          graphOptimizationLevel: "disabled",
          executionProviders: ["cpu"],
        });
      } catch (cause) {
        throw new ZeropointError(
          "invalid-model",
          `onnxruntime cannot load the model (segment ${c}): ${(cause as Error).message}`,
          { cause },
        );
      } finally {
        opened.dispose();
      }
      const segmentTypes = new Map<string, string>();
      for (const m of session.outputMetadata) {
        const type = m.isTensor ? m.type : "non-tensor";
        segmentTypes.set(m.name, type);
        types.set(m.name, type);
      }
      const release = inputs.filter((name) => (lastReader.get(name) ?? -1) <= c && !graphOutputs.has(name));
      segments.push({ session, inputs, outputs, release, types: segmentTypes });
    }
    return segments;
  } catch (e) {
    for (const s of segments) await s.session.release();
    throw e;
  }
}

/**
 * Runs the segments on one batch's feeds and returns the wanted tensors; intermediate values live
 * only until the last segment that reads them has run.
 */
export async function runSegments(
  segments: readonly GraphSegment[],
  feeds: Readonly<Record<string, unknown>>,
  wanted: ReadonlySet<string>,
): Promise<Map<string, { type: string; data: unknown }>> {
  const values = new Map<string, unknown>(Object.entries(feeds));
  const out = new Map<string, { type: string; data: unknown }>();
  for (const segment of segments) {
    const segmentFeeds: Record<string, unknown> = {};
    for (const name of segment.inputs) {
      const v = values.get(name);
      if (v === undefined) throw new ZeropointError("invalid-model", `tensor ${name} is read before it is computed`);
      segmentFeeds[name] = v;
    }
    const results = await segment.session.run(segmentFeeds as never, [...segment.outputs]);
    for (const name of segment.outputs) {
      const value = results[name] as { type: string; data: unknown } | undefined;
      if (value === undefined) continue;
      values.set(name, value);
      if (wanted.has(name)) out.set(name, value);
    }
    for (const name of segment.release) values.delete(name);
  }
  return out;
}
