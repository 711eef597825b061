import type { CalibrationMethod, Observer, ObserverOptions, QuantDtype } from "@zeropoint/core";
import { ZeropointError } from "@zeropoint/core";
import type { CalibrationProgress } from "../calibration/calibrate.js";
import type { CalibrationSource } from "../calibration/calibration-source.js";
import { preprocessGraph } from "../graph/preprocess.js";
import { subgraphsOf } from "../graph/subgraphs.js";
import { isFloat16Model, widenFloat16Compute } from "../model/float16-compute.js";
import { opsetVersion, structuredCloneModel, workingCopy } from "../model/model-io.js";
import type { OnnxModel } from "../model/onnx-schema.js";
import { applyTargetCpu, type TargetDecision } from "../target/saturation-policy.js";
import { quantizeIfBranches } from "./branch-static.js";
import { ensureOpset } from "./opset.js";
import { type CommonQuantizeOptions, recipeFromOptions, selectionReason } from "./options.js";
import { emitQdq } from "./qdq-emitter.js";
import { emitQOperator, QOPERATOR_OPS } from "./qoperator-emitter.js";
import { quantizeWeightOnly } from "./quantize-weight-only.js";
import { type ActivationParams, planStatic } from "./static-plan.js";

/** Options of {@link quantizeStatic}. */
export interface StaticQuantizeOptions extends CommonQuantizeOptions {
  /** Re-iterable calibration data (read twice by two-pass calibrators). */
  readonly calibrationData: CalibrationSource;
  /** `qdq` (default) or `qoperator`. */
  readonly format?: "qdq" | "qoperator";
  /** `uint8` (default), `int8`; `uint16`/`int16` for QDQ. */
  readonly activationType?: QuantDtype;
  readonly symmetricActivations?: boolean;
  /** Default `minmax`. */
  readonly calibrationMethod?: CalibrationMethod;
  /** Extra observer options (bins, quantizedBins, percentile, symmetric...). */
  readonly calibrationOptions?: ObserverOptions;
  /**
   * `web`: output onnxruntime-web runs in every backend it has (int32 bias DequantizeLinear without a
   * zero point, which WebGPU/JSEP reject). Default `node`.
   */
  readonly target?: "node" | "web";
  /** Calibration samples to use (default all the source yields). */
  readonly samples?: number;
  readonly inputShapes?: Readonly<Record<string, readonly number[]>>;
  readonly onProgress?: (progress: CalibrationProgress) => void;
  /** Reuse (and fill) calibrated observers across runs on the same model and data. */
  readonly observerCache?: Map<string, Observer>;
}

/** What a quantization run did. */
export interface QuantizeReport {
  readonly approach: "static" | "dynamic" | "weight-only";
  readonly format: string;
  readonly quantizedNodes: string[];
  readonly floatNodes: { name: string; opType: string; reason: string }[];
  readonly activations?: Record<string, ActivationParams>;
  readonly calibrationSamples?: number;
  /** The integer kernel of the target CPU and what the quantizer did about it (static and dynamic). */
  readonly target?: TargetDecision;
}

/**
 * Static (post-training) quantization of an ONNX model: calibrates activation ranges on the given
 * data with onnxruntime-node and a core observer, then writes QDQ or QOperator form.
 *
 * @example
 * ```ts
 * const { model } = await quantizeStatic("cnn.onnx", { calibrationData, perChannel: true });
 * saveModel(model, "cnn.int8.onnx");
 * ```
 */
export async function quantizeStatic(
  input: OnnxModel | string | Uint8Array,
  options: StaticQuantizeOptions,
): Promise<{ model: OnnxModel; report: QuantizeReport }> {
  const source = workingCopy(input);
  // A float16 model computes in float32 between Casts at its float16 inputs and outputs.
  if (isFloat16Model(source)) widenFloat16Compute(source);
  const format = options.format ?? "qdq";
  if (format !== "qdq" && format !== "qoperator")
    throw new ZeropointError("invalid-argument", `unknown format ${String(format)}`);
  const { recipe, decision } = await applyTargetCpu(recipeFromOptions("static", options), options);
  const activation = recipe.activation ?? { dtype: "uint8" };
  // onnxruntime's check_static_quant_arguments: int8 activations with uint8 weights have no kernels.
  if (activation.dtype === "int8" && recipe.weight.dtype === "uint8") {
    throw new ZeropointError(
      "invalid-argument",
      "int8 activations with uint8 weights are not supported (use U8S8, S8S8 or U8U8)",
    );
  }
  if (format === "qoperator" && activation.dtype !== "uint8" && activation.dtype !== "int8") {
    throw new ZeropointError(
      "invalid-argument",
      "QOperator supports 8-bit activations only; use the QDQ format for 16-bit",
    );
  }
  const model = ensureOpset(source, format === "qdq" && recipe.weight.granularity === "per-channel" ? 13 : 10);
  preprocessGraph(model.graph as NonNullable<OnnxModel["graph"]>);
  const method = recipe.calibration?.method ?? options.calibrationMethod ?? "minmax";
  const plan = await planStatic(model, {
    recipe,
    calibrationData: options.calibrationData,
    calibrationMethod: method,
    observer: {
      dtype: activation.dtype,
      ...(activation.symmetric !== undefined ? { qparamsSymmetric: activation.symmetric } : {}),
      convention: "onnxruntime",
      ...(recipe.calibration?.bins !== undefined ? { bins: recipe.calibration.bins } : {}),
      ...(recipe.calibration?.quantizedBins !== undefined ? { quantizedBins: recipe.calibration.quantizedBins } : {}),
      ...(recipe.calibration?.percentile !== undefined ? { percentile: recipe.calibration.percentile } : {}),
      ...(options.calibrationOptions ?? {}),
    },
    ...(options.samples !== undefined ? { maxSamples: options.samples } : {}),
    ...(options.opTypes !== undefined ? { opTypes: options.opTypes } : {}),
    ...(options.includeNodes !== undefined ? { includeNodes: options.includeNodes } : {}),
    ...(options.excludeNodes !== undefined ? { excludeNodes: options.excludeNodes } : {}),
    ...(options.inputShapes !== undefined ? { inputShapes: options.inputShapes } : {}),
    ...(format === "qoperator" ? { supportedOps: QOPERATOR_OPS } : {}),
    ...(options.onProgress !== undefined ? { onProgress: options.onProgress } : {}),
    ...(options.observerCache !== undefined ? { observerCache: options.observerCache } : {}),
  });
  const graph = model.graph as NonNullable<OnnxModel["graph"]>;
  const opset = opsetVersion(model) ?? 13;
  // If nodes on run-time conditions: their branches are calibrated and quantized on their own
  // (see branch-static), from a float copy taken before the main graph is rewritten.
  const hasIfs = format === "qdq" && graph.node.some((n) => n.opType === "If");
  const floatCopy = hasIfs ? structuredCloneModel(model) : undefined;
  const { quantizedNodes } =
    format === "qdq" ? emitQdq(graph, plan, opset, options.target ?? "node") : emitQOperator(model, plan);
  // Weights the activation pass cannot reach: an embedding table (a Gather of a float constant by
  // ids has no float activation to calibrate; at a vocabulary of thousands it is most of the model)
  // and recurrent weights (onnxruntime has no QLinear LSTM/GRU). They are stored int8 behind
  // DequantizeLinear, as weight-only does.
  const tables = plan.nodes.filter(
    (n) =>
      n.role === "float" &&
      ((n.node.opType === "Gather" && plan.index.initializers.get(n.node.input[0] ?? "")?.dataType === 1) ||
        ["LSTM", "GRU", "RNN"].includes(n.node.opType ?? "")) &&
      (n.node.domain ?? "") === "" &&
      selectionReason(n.node, options, recipe) === undefined,
  );
  const branchNodes: string[] = [];
  if (floatCopy !== undefined) {
    const outcomes = await quantizeIfBranches(floatCopy, model, options.calibrationData, async (branch, data) => {
      // Node lists, plans, caches and progress name or belong to the main graph.
      const {
        onProgress: _p,
        includeNodes: _i,
        excludeNodes: _e,
        observerCache: _c,
        plan: _plan,
        ...numeric
      } = options;
      const q = await quantizeStatic(branch, { ...numeric, calibrationData: data });
      return { model: q.model, quantizedNodes: q.report.quantizedNodes };
    });
    for (const o of outcomes) branchNodes.push(...o.quantizedNodes);
  }
  quantizedNodes.push(...branchNodes);
  // Bodies still float (Loop/Scan, QOperator, or a branch no calibration batch took): their
  // activations were not observed, so their weights are stored int8 and their compute stays float.
  const bodies = graph.node.some((n) => subgraphsOf(n).length > 0);
  let result = model;
  if (tables.length > 0 || bodies) {
    const stored = await quantizeWeightOnly(model, {
      weightType: "int8",
      perChannel: true,
      includeNodes: tables.map((t) => t.node.name ?? ""),
      allBodies: bodies,
    });
    result = stored.model;
    quantizedNodes.push(...stored.report.quantizedNodes);
  }
  const storedTables = new Set(quantizedNodes);
  return {
    model: result,
    report: {
      approach: "static",
      format,
      quantizedNodes,
      floatNodes: plan.nodes
        .filter((n) => n.role === "float" && !storedTables.has(n.node.name ?? ""))
        .map((n) => ({ name: n.node.name ?? "", opType: n.node.opType ?? "", reason: n.reason ?? "" })),
      activations: Object.fromEntries(plan.params),
      calibrationSamples: plan.samples,
      target: decision,
    },
  };
}
