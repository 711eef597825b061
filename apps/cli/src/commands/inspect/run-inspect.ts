import { defaultRecipe, ZeropointError } from "@zeropoint/core";
import { loadOnnxAdapter, modelKind } from "../../adapters.js";
import { table } from "../../report.js";
import { runInspectTfjs } from "../quantize/quantize-tfjs.js";

/** Runs `zeropoint inspect`: opset, inputs/outputs, op histogram, parameters, and quantization decisions. */
export async function runInspect(
  path: string,
  json: boolean,
  out: (line: string) => void,
  allowDirs: readonly string[] = [],
): Promise<Record<string, unknown>> {
  if ((await modelKind(path)) === "tfjs") return runInspectTfjs(path, json, out, allowDirs);
  const report = await inspectReport(await loadOnnxAdapter(), path, allowDirs);
  if (!json) printInspect(report, out);
  return report;
}

/** What `inspect` reports of an ONNX model. */
async function inspectReport(onnx: Onnx, path: string, allowDirs: readonly string[]) {
  const { model } = onnx.loadModel(path, { allowDirs });
  const graph = model.graph;
  if (!graph) throw new ZeropointError("invalid-model", `${path}: no graph`);
  const { histogram, parameters, totalNodes, bodyNodes } = opHistogram(onnx, graph);
  const specs = onnx.modelInputSpecs(model);
  const dims = (v: (typeof graph.input)[number]) => onnx.valueInfoDims(v);
  const inputs = onnx.runtimeInputs(model).map((v) => {
    const spec = specs.find((s) => s.name === v.name);
    return {
      name: v.name,
      dims: dims(v),
      dtype: spec?.dtype,
      batchAxis: spec?.batchAxis ?? null,
      ...(spec?.vocabSize !== undefined ? { vocabSize: spec.vocabSize } : {}),
    };
  });
  const outputs = graph.output.map((v) => ({ name: v.name, dims: dims(v) }));
  // ensureOpset may rewrite the model in place; the report reads the original opset, so a copy.
  const copy = onnx.loadModel(path, { allowDirs }).model;
  const decisions = await onnx.decideRoles(onnx.ensureOpset(copy, 13), {
    recipe: defaultRecipe("static"),
  });
  const nodes = decisions.nodes.map((p) => ({
    name: p.node.name ?? "",
    op: p.node.opType ?? "",
    decision: p.role,
    reason: p.reason ?? "",
  }));
  const report = {
    path,
    opset: onnx.opsetVersion(model),
    producer: `${model.producerName ?? ""} ${model.producerVersion ?? ""}`.trim(),
    inputs,
    outputs,
    ops: histogram,
    parameters,
    totalNodes,
    bodyNodes,
    nodes,
  };
  return report;
}

type Onnx = Awaited<ReturnType<typeof loadOnnxAdapter>>;
type Graph = NonNullable<import("@zeropoint/onnx").OnnxModel["graph"]>;

/**
 * Op counts and parameters, If/Loop/Scan bodies included: a model whose network sits in a branch
 * is not "2 nodes".
 */
function opHistogram(onnx: Onnx, graph: Graph) {
  const histogram: Record<string, number> = {};
  let parameters = 0;
  let totalNodes = 0;
  let bodyNodes = 0;
  onnx.forEachGraph(graph, (g, depth) => {
    for (const n of g.node) {
      const key = n.domain ? `${n.domain}.${n.opType}` : (n.opType ?? "");
      histogram[key] = (histogram[key] ?? 0) + 1;
      totalNodes++;
      if (depth > 0) bodyNodes++;
    }
    for (const t of g.initializer) parameters += (t.dims ?? []).reduce((a: number, d) => a * Number(d), 1);
  });
  return { histogram, parameters, totalNodes, bodyNodes };
}

type InspectReport = Awaited<ReturnType<typeof inspectReport>>;

/** The report as text: header, inputs/outputs, op counts, and what static quantization would do. */
function printInspect(report: InspectReport, out: (line: string) => void): void {
  out(
    `${report.path}: opset ${report.opset}, producer ${report.producer || "unknown"}, ${report.totalNodes} nodes${report.bodyNodes > 0 ? ` (${report.bodyNodes} inside If/Loop/Scan bodies)` : ""}, ${report.parameters} parameters`,
  );
  out(
    `inputs:  ${report.inputs.map((i) => `${i.name} ${i.dtype ?? "?"} [${i.dims.join(", ")}]${i.batchAxis !== null && i.batchAxis !== 0 ? ` (batch axis ${i.batchAxis})` : ""}`).join(", ")}`,
  );
  out(`outputs: ${report.outputs.map((o) => `${o.name} [${o.dims.join(", ")}]`).join(", ")}`);
  out("");
  out(
    table(
      ["op", "count"],
      Object.entries(report.ops).sort((a, b) => b[1] - a[1]),
    ),
  );
  out("");
  out("static quantization (default recipe) would:");
  const interesting = report.nodes.filter(
    (n) =>
      n.decision !== "float" ||
      ["Conv", "MatMul", "Gemm", "ConvTranspose"].includes(n.op) ||
      !n.reason.endsWith("is not quantized"),
  );
  out(
    table(
      ["node", "op", "decision", "why"],
      interesting.map((n) => [n.name, n.op, n.decision, n.reason]),
    ),
  );
  const skipped = report.nodes.length - interesting.length;
  if (skipped > 0) out(`(${skipped} more nodes of op types that are never quantized: shape arithmetic and the like)`);
}
