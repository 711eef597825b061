import {
  type CalibrationMethod,
  computeQParams,
  type Observer,
  type ObserverOptions,
  type QuantScheme,
  type Recipe,
  resolveSettings,
  ZeropointError,
} from "@zeropoint/core";
import { type CalibrationProgress, calibrate, discoverTensorTypes } from "../calibration/calibrate.js";
import type { CalibrationSource } from "../calibration/calibration-source.js";
import { GraphIndex, getAttribute, intAttribute, nodeLabel } from "../graph/graph-index.js";
import type { OnnxModel, OnnxNode } from "../model/onnx-schema.js";
import { readFloat32 } from "../model/tensor-data.js";
import { COMPUTE_OPS, dataInputs, REMOVABLE_OPS, SHARE_OPS } from "./op-registry.js";

/** Scale and zero point of one activation tensor. */
export interface ActivationParams {
  readonly scale: number;
  readonly zeroPoint: number;
  readonly dtype: QuantScheme["dtype"];
  /** The calibrated range it came from. */
  readonly range: readonly [number, number];
  /** For shared parameters: the tensor whose parameters these are. */
  readonly sharedWith?: string;
}

/** A node the planner decided about. */
export interface PlannedNode {
  readonly node: OnnxNode;
  readonly role: "compute" | "share" | "removed" | "float";
  readonly reason?: string;
}

/** Everything the emitters need. */
export interface StaticPlan {
  readonly index: GraphIndex;
  readonly nodes: PlannedNode[];
  /** Activation tensors that get quantization parameters. */
  readonly params: Map<string, ActivationParams>;
  /** Removed Relu/Clip: their input tensor -> output tensor. */
  readonly removedActivations: Map<string, string>;
  readonly activationScheme: QuantScheme;
  readonly weightScheme: (node: OnnxNode) => QuantScheme;
  readonly samples: number;
}

/** Options of the planner. */
export interface PlanOptions {
  readonly recipe: Recipe;
  readonly calibrationData: CalibrationSource;
  readonly calibrationMethod: CalibrationMethod;
  readonly observer: ObserverOptions;
  readonly maxSamples?: number;
  readonly opTypes?: readonly string[];
  readonly includeNodes?: readonly string[];
  readonly excludeNodes?: readonly string[];
  readonly inputShapes?: Readonly<Record<string, readonly number[]>>;
  /** QOperator: ops it cannot express stay float. */
  readonly supportedOps?: ReadonlySet<string>;
  readonly onProgress?: (p: CalibrationProgress) => void;
  /**
   * Observers of earlier runs on the same model and data, by tensor: reused instead of calibrating
   * again, and filled with any tensor calibrated now (the tuner quantizes one model many times).
   */
  readonly observerCache?: Map<string, Observer>;
}

/**
 * Decides which nodes and tensors to quantize, calibrates the activations that need parameters and
 * turns ranges into parameters (onnxruntime arithmetic), including onnxruntime's range adjustments:
 * a Relu/Clip folded into its producer gives the producer its own output range, and Softmax outputs
 * use [0, 1].
 */
/** The roles the planner gives each node, before any calibration. */
export interface RoleDecision {
  readonly index: GraphIndex;
  readonly nodes: PlannedNode[];
  readonly quantized: Set<string>;
  readonly shared: Map<string, string>;
  readonly removedActivations: Map<string, string>;
  readonly activationScheme: QuantScheme;
}

/**
 * Decides which nodes are quantized and how (compute, share, folded activation, float with a reason),
 * and which activation tensors need parameters. Needs onnxruntime only to learn tensor types.
 */
export async function decideRoles(
  model: OnnxModel,
  options: Omit<PlanOptions, "calibrationData" | "calibrationMethod" | "observer">,
): Promise<RoleDecision> {
  const graph = model.graph;
  if (!graph) throw new ZeropointError("invalid-model", "model has no graph");
  const index = new GraphIndex(graph);
  const types = await discoverTensorTypes(model);
  const isFloatActivation = (name: string) =>
    name !== "" && !index.initializers.has(name) && types.get(name) === "float32";
  const isFloatConstant = (name: string) => {
    const t = index.initializers.get(name);
    return t !== undefined && (t.dataType === 1 || t.dataType === 10);
  };
  const recipe = options.recipe;
  const activationScheme = recipe.activation ?? { dtype: "uint8" as const };
  const opFilter = options.opTypes === undefined ? undefined : new Set(options.opTypes);
  const include = options.includeNodes === undefined ? undefined : new Set(options.includeNodes);
  const exclude = new Set(options.excludeNodes ?? []);
  for (const name of [...(include ?? []), ...exclude]) {
    if (!graph.node.some((n) => n.name === name)) {
      throw new ZeropointError("invalid-argument", `no node named ${name} in the model (node include/exclude list)`);
    }
  }

  // Tensors computed only from integer graph inputs and constants: attention-mask biases
  // ((1 - mask) * -10000), causal masks sliced by a sequence length. Adding one to attention scores
  // gives a range of ~10^4 where the scores need ~10, so 8 bits would round every score to the same
  // value (a BERT-style encoder lost 2.5 points of accuracy that way); the node that adds the mask
  // and the Softmax reading its output stay float. What comes out of the Softmax is quantized as usual.
  const maskDerived = new Map<string, string>();
  // Integer and bool inputs (ids, masks, lengths); a float16 input is data, not a mask.
  const INTEGER_TYPES = new Set([2, 3, 4, 5, 6, 7, 9, 12, 13]);
  const integerInputs = new Set(
    graph.input
      .filter((v) => !index.initializers.has(v.name ?? "") && INTEGER_TYPES.has(v.type?.tensorType?.elemType ?? 0))
      .map((v) => v.name ?? ""),
  );
  for (const node of graph.node) {
    // An embedding lookup (Gather of a float table by ids) is data, not a mask.
    if (node.opType === "Gather" && isFloatConstant(node.input[0] ?? "")) continue;
    const inputs = node.input.filter((i) => i !== "");
    const origin = inputs.map((i) => (integerInputs.has(i) ? i : maskDerived.get(i))).find((o) => o !== undefined);
    if (origin === undefined) continue;
    if (inputs.every((i) => index.initializers.has(i) || integerInputs.has(i) || maskDerived.has(i)))
      for (const o of node.output) if (o !== "") maskDerived.set(o, origin);
  }
  const maskedScores = new Map<string, string>();

  const planned: PlannedNode[] = [];
  const roles = new Map<OnnxNode, PlannedNode["role"]>();
  const quantized = new Set<string>(); // activation tensors with parameters (own or shared)
  const shared = new Map<string, string>(); // output -> input whose params it shares
  const removedActivations = new Map<string, string>();

  const selectable = (node: OnnxNode): string | undefined => {
    const op = node.opType ?? "";
    if ((node.domain ?? "") !== "") return `custom domain ${node.domain}`;
    if (opFilter && !opFilter.has(op)) return "op type not selected";
    if (include && !include.has(node.name ?? "")) return "not in the include list";
    if (exclude.has(node.name ?? "")) return "excluded";
    if (options.supportedOps && !options.supportedOps.has(op) && !REMOVABLE_OPS.has(op))
      return `no quantized form of ${op} in this format`;
    if (resolveSettings(recipe, { opType: op, node: node.name ?? "" }).keepFloat) return "kept float by the plan";
    return undefined;
  };

  for (const node of graph.node) {
    const op = node.opType ?? "";
    const reason = selectable(node);
    let role: PlannedNode["role"] = "float";
    let why = reason;
    if (reason === undefined && COMPUTE_OPS.has(op)) {
      const data = dataInputs(op, node.input.length).map((i) => node.input[i] ?? "");
      const activations = data.filter(isFloatActivation);
      const outputsFloat = node.output.every((o) => o === "" || types.get(o) === "float32");
      const mask = data.map((d) => maskDerived.get(d)).find((m) => m !== undefined);
      const masked = data.map((d) => maskedScores.get(d)).find((m) => m !== undefined);
      if (mask !== undefined && activations.length > 0) {
        why = `adds a mask computed from integer input ${mask} (its ~1e4 range would erase the scores at 8 bits)`;
        for (const o of node.output) if (o !== "") maskedScores.set(o, mask);
      } else if (masked !== undefined) {
        why = `reads scores with a mask from ${masked} added (float, see the node that adds it)`;
      } else if (
        op === "Gemm" &&
        (intAttribute(node, "transA", 0) !== 0 ||
          (getAttribute(node, "alpha")?.f !== undefined && getAttribute(node, "alpha")?.f !== 1))
      ) {
        why = "Gemm with transA or alpha != 1 stays float";
      } else if (activations.length === 0) why = "no float activation input";
      else if (!outputsFloat) why = "output is not float";
      else if (!data.every((d) => d === "" || isFloatActivation(d) || isFloatConstant(d)))
        why = "an input is neither float activation nor float constant";
      else {
        role = "compute";
        for (const a of activations) quantized.add(a);
        for (const o of node.output) if (o !== "") quantized.add(o);
      }
    } else if (reason === undefined && SHARE_OPS.has(op)) {
      const input = node.input[0] ?? "";
      if (quantized.has(input) && node.output.every((o) => types.get(o) === "float32")) {
        role = "share";
        for (const o of node.output) {
          quantized.add(o);
          shared.set(o, input);
        }
      } else why = "input not quantized";
    } else if (reason === undefined && REMOVABLE_OPS.has(op)) {
      const input = node.input[0] ?? "";
      const producer = index.producers.get(input);
      const producerRole = producer === undefined ? undefined : roles.get(producer);
      const singleUse = (index.consumers.get(input)?.length ?? 0) === 1 && !index.graphOutputs.has(input);
      if (activationScheme.symmetric) why = "symmetric activations: folding the activation would not be exact";
      else if (producerRole === "compute" && singleUse && node.output.length === 1) {
        role = "removed";
        removedActivations.set(input, node.output[0] as string);
        quantized.add(node.output[0] as string);
      } else why = "not directly after a quantized op";
    } else if (reason === undefined) why = `${op} is not quantized`;
    roles.set(node, role);
    planned.push(role === "float" ? { node, role, reason: why ?? "" } : { node, role });
  }
  return { index, nodes: planned, quantized, shared, removedActivations, activationScheme };
}

export async function planStatic(model: OnnxModel, options: PlanOptions): Promise<StaticPlan> {
  const {
    index,
    nodes: planned,
    quantized,
    shared,
    removedActivations,
    activationScheme,
  } = await decideRoles(model, options);
  const recipe = options.recipe;
  // A removed activation's input is never materialized: the producer writes the activation's output.
  for (const [input] of removedActivations) quantized.delete(input);
  // Softmax outputs take the fixed range [0, 1] (onnxruntime's adjust_tensor_ranges).
  const fixedRanges = new Map<string, [number, number]>();
  for (const p of planned)
    if (p.role === "compute" && p.node.opType === "Softmax") fixedRanges.set(p.node.output[0] as string, [0, 1]);
  const toCalibrate = [...quantized].filter((t) => !shared.has(t) && !fixedRanges.has(t));
  const cache = options.observerCache;
  const missing = cache === undefined ? toCalibrate : toCalibrate.filter((t) => !cache.has(t));
  const calibration =
    missing.length === 0 && cache !== undefined
      ? { observers: new Map<string, Observer>(), samples: Number.NaN, batches: 0 }
      : await calibrate(model, missing, options.calibrationData, {
          method: options.calibrationMethod,
          observer: options.observer,
          ...(options.maxSamples !== undefined ? { maxSamples: options.maxSamples } : {}),
          ...(options.inputShapes !== undefined ? { inputShapes: options.inputShapes } : {}),
          ...(options.onProgress !== undefined ? { onProgress: options.onProgress } : {}),
        });
  if (cache !== undefined) {
    for (const [t, o] of calibration.observers) cache.set(t, o);
    for (const t of toCalibrate) calibration.observers.set(t, cache.get(t) as Observer);
  }
  const params = new Map<string, ActivationParams>();
  const paramsFor = (range: [number, number], scheme: QuantScheme): Omit<ActivationParams, "range"> => {
    const qp = computeQParams(range[0], range[1], { scheme, convention: "onnxruntime" });
    return { scale: qp.scale[0] as number, zeroPoint: qp.zeroPoint[0] as number, dtype: scheme.dtype };
  };
  const schemeFor = (tensor: string): QuantScheme => {
    const override = resolveSettings(recipe, { tensor });
    return { ...activationScheme, ...(override.activation ?? {}), granularity: "per-tensor" };
  };
  for (const t of toCalibrate) {
    const explicit = resolveSettings(recipe, { tensor: t }).qparams;
    if (explicit !== undefined) {
      params.set(t, {
        scale: explicit.scale[0] as number,
        zeroPoint: explicit.zeroPoint[0] as number,
        dtype: explicit.dtype,
        range: [Number.NaN, Number.NaN],
      });
      continue;
    }
    const r = (calibration.observers.get(t) as NonNullable<ReturnType<typeof calibration.observers.get>>).range();
    const range: [number, number] = [r.min[0] as number, r.max[0] as number];
    params.set(t, { ...paramsFor(range, schemeFor(t)), range });
  }
  for (const [t, range] of fixedRanges) params.set(t, { ...paramsFor(range, schemeFor(t)), range });
  // Shared parameters follow their source, in graph order (chains of share ops).
  for (const p of planned) {
    if (p.role !== "share") continue;
    for (const o of p.node.output) {
      const source = shared.get(o) as string;
      const from = params.get(source);
      if (from === undefined)
        throw new ZeropointError("invalid-model", `no parameters for ${source} feeding ${nodeLabel(p.node)}`);
      params.set(o, { ...from, sharedWith: from.sharedWith ?? source });
    }
  }
  const weightScheme = (node: OnnxNode): QuantScheme =>
    resolveSettings(recipe, { opType: node.opType ?? "", node: node.name ?? "" }).weight;
  return {
    index,
    nodes: planned,
    params,
    removedActivations,
    activationScheme,
    weightScheme,
    samples: calibration.samples,
  };
}

/** Per-channel axis of a node's weight (onnxruntime's defaults). */
export function weightAxis(node: OnnxNode, rank: number): number {
  switch (node.opType) {
    case "Conv":
      return 0;
    case "ConvTranspose":
      return 1;
    case "Gemm":
      return intAttribute(node, "transB", 0) === 1 ? 0 : 1;
    default:
      return rank - 1;
  }
}

export { readFloat32 };
