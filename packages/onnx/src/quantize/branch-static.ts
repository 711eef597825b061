import type { NamedTensor } from "@zeropoint/core";
import { discoverTensorTypes, exposeTensors, makeFeeds } from "../calibration/calibrate.js";
import { type CalibrationBatch, type CalibrationSource, iterateSource } from "../calibration/calibration-source.js";
import { ELEM_TYPE, outerReads } from "../calibration/graph-segments.js";
import { getAttribute } from "../graph/graph-index.js";
import { modelInputSpecs } from "../model/input-specs.js";
import type { OnnxGraph, OnnxModel, OnnxNode } from "../model/onnx-schema.js";
import { loadOnnxruntime } from "../runtime/onnxruntime.js";
import { sessionModel } from "../runtime/session-model.js";

/** What {@link quantizeIfBranches} did to one If. */
export interface BranchOutcome {
  readonly node: string;
  readonly branch: "then_branch" | "else_branch";
  /** Quantized nodes of the branch (prefixed as they now are), or why it stayed for weight storage. */
  readonly quantizedNodes: readonly string[];
  readonly samples: number;
}

/**
 * Static quantization inside the branches of `If` nodes whose condition is computed at run time.
 * onnxruntime cannot fetch a branch's tensors, so each branch is calibrated as a model of its own:
 * its inputs are the outer values it reads, fed with what the float main model computes for them
 * on each calibration batch, and only the batches for which the condition takes that branch (the
 * branch that runs is the one observed). The quantized branch replaces the float one; names it
 * defines get a prefix so they cannot shadow outer names. A branch no calibration batch takes is
 * left for weight storage. `quantizeBranch` is the static quantizer itself (passed in to avoid a
 * module cycle).
 */
export async function quantizeIfBranches(
  floatModel: OnnxModel,
  quantized: OnnxModel,
  calibration: CalibrationSource,
  quantizeBranch: (
    model: OnnxModel,
    data: CalibrationSource,
  ) => Promise<{ model: OnnxModel; quantizedNodes: string[] }>,
): Promise<BranchOutcome[]> {
  const graph = floatModel.graph as OnnxGraph;
  const ifs = graph.node.filter(
    (n) => n.opType === "If" && (n.domain ?? "") === "" && !graph.initializer.some((t) => t.name === n.input[0]),
  );
  if (ifs.length === 0) return [];
  const ort = await loadOnnxruntime();
  const types = await discoverTensorTypes(floatModel);
  const specs = modelInputSpecs(floatModel);
  const outcomes: BranchOutcome[] = [];
  for (const node of ifs) {
    const target = quantized.graph?.node.find((n) => n.name === node.name && n.opType === "If");
    if (target === undefined) continue;
    for (const branch of ["then_branch", "else_branch"] as const) {
      const body = getAttribute(node, branch)?.g;
      const targetAttribute = target.attribute.find((a) => a.name === branch);
      if (!body || !targetAttribute) continue;
      const initializers = new Map(graph.initializer.map((t) => [t.name ?? "", t]));
      const reads = [...new Set(outerReads(body))];
      const fed = reads.filter((r) => !initializers.has(r));
      const condition = node.input[0] as string;
      const wanted = [...new Set([condition, ...fed])];
      const exposed = exposeTensors(floatModel, wanted);
      let samples = 0;
      // One pass over the data per call (two-pass calibrators call it twice), nothing kept.
      const source: CalibrationSource = async function* () {
        const opened = sessionModel(exposed);
        let session: Awaited<ReturnType<typeof ort.InferenceSession.create>>;
        try {
          session = await ort.InferenceSession.create(opened.source as never, { executionProviders: ["cpu"] });
        } finally {
          opened.dispose();
        }
        try {
          let index = 0;
          for await (const batch of iterateSource(calibration)) {
            const out = (await session.run(
              makeFeeds(ort, specs, batch, index++, undefined) as never,
              wanted,
            )) as Record<string, { type: string; data: ArrayLike<number | bigint>; dims: readonly number[] }>;
            const taken = Number((out[condition] as { data: ArrayLike<number> }).data[0]) !== 0;
            if (taken !== (branch === "then_branch")) continue;
            samples++;
            const feeds: Record<string, NamedTensor> = {};
            for (const name of fed) {
              const v = out[name] as { type: string; data: unknown; dims: readonly number[] };
              feeds[name] = { dtype: v.type, data: v.data, dims: v.dims } as NamedTensor;
            }
            yield feeds as CalibrationBatch;
          }
        } finally {
          await session.release();
        }
      };
      const branchModel: OnnxModel = {
        ...floatModel,
        graph: {
          ...body,
          name: `${node.name}_${branch}`,
          initializer: [
            ...body.initializer,
            ...reads
              .filter((r) => initializers.has(r))
              .map((r) => initializers.get(r) as NonNullable<ReturnType<typeof initializers.get>>),
          ],
          input: fed.map((name) => ({
            name,
            type: {
              tensorType: {
                elemType:
                  ELEM_TYPE[types.get(name) ?? "float32"] ??
                  (Number((types.get(name) ?? "").replace("onnx-", "")) || 1),
              },
            },
          })),
          valueInfo: [],
        } as OnnxGraph,
      };
      let result: { model: OnnxModel; quantizedNodes: string[] };
      try {
        result = await quantizeBranch(branchModel, source);
      } catch {
        // No batch took this branch (nothing to calibrate on), or it cannot be quantized alone:
        // it stays float here and the caller stores its weights.
        outcomes.push({ node: node.name ?? "", branch, quantizedNodes: [], samples });
        continue;
      }
      const q = result.model.graph as OnnxGraph;
      const prefix = `${node.name ?? "If"}/${branch}/`;
      const outer = new Set(reads);
      const outputs = new Set(body.output.map((o) => o.name ?? ""));
      const defined = new Set<string>([...q.initializer.map((t) => t.name ?? ""), ...q.node.flatMap((n) => n.output)]);
      const rename = (name: string) =>
        name === "" || outer.has(name) || outputs.has(name) || !defined.has(name) ? name : `${prefix}${name}`;
      targetAttribute.g = {
        ...body,
        node: q.node.map((n: OnnxNode) => ({
          ...n,
          name: `${prefix}${n.name ?? n.opType}`,
          input: n.input.map(rename),
          output: n.output.map(rename),
        })),
        initializer: q.initializer
          .filter((t) => !initializers.has(t.name ?? "") || body.initializer.some((b) => b.name === t.name))
          .map((t) => ({ ...t, name: rename(t.name ?? "") })),
      };
      outcomes.push({
        node: node.name ?? "",
        branch,
        quantizedNodes: result.quantizedNodes.map((n) => `${prefix}${n}`),
        samples,
      });
    }
  }
  return outcomes;
}
