import {
  type CalibrationMethod,
  defaultRecipe,
  parseRecipe,
  type QuantDtype,
  type Recipe,
  resolveSettings,
  type TargetCpu,
  ZeropointError,
} from "@zeropoint/core";

/** Options shared by the quantize entry points, mirroring onnxruntime's quantize_static/quantize_dynamic. */
export interface CommonQuantizeOptions {
  /** Per-channel weights (default false, as onnxruntime). */
  readonly perChannel?: boolean;
  /** `int8` (default) or `uint8`. */
  readonly weightType?: "int8" | "uint8";
  /**
   * 7-bit weights (onnxruntime's reduce_range). Left undefined, the target CPU decides: on with a
   * kernel that saturates uint8 × int8 pair sums, off elsewhere; `false` keeps full-range weights
   * even there.
   */
  readonly reduceRange?: boolean;
  /**
   * The CPU the model will run on: `auto` (default) detects this machine (feature flags confirmed by
   * an onnxruntime probe); `avx2`/`avx512` are x86 without VNNI (saturating U8S8), `vnni`, `arm64`
   * and `wasm` are exact. A model made on a VNNI build box for AVX2 laptops passes `avx2`.
   */
  readonly targetCpu?: TargetCpu;
  /** Symmetric weights; default true for signed weight types. */
  readonly symmetricWeights?: boolean;
  /** Only these op types are quantized. */
  readonly opTypes?: readonly string[];
  /** Only these nodes are quantized. */
  readonly includeNodes?: readonly string[];
  /** These nodes stay float. */
  readonly excludeNodes?: readonly string[];
  /** A recipe/plan (core schema) whose defaults and per-node/op-type/tensor overrides apply on top. */
  readonly plan?: Recipe | string;
}

/** Builds the recipe the quantizer follows from the options (a plan's own fields win). */
export function recipeFromOptions(
  approach: "static" | "dynamic",
  options: CommonQuantizeOptions & {
    activationType?: QuantDtype;
    symmetricActivations?: boolean;
    calibrationMethod?: CalibrationMethod;
    samples?: number;
  },
): Recipe {
  const base = defaultRecipe(approach);
  const weightType = options.weightType ?? "int8";
  const weight = {
    dtype: weightType,
    symmetric: options.symmetricWeights ?? weightType === "int8",
    granularity: options.perChannel ? ("per-channel" as const) : ("per-tensor" as const),
    ...(options.reduceRange ? { reduceRange: true } : {}),
  };
  const fromOptions: Recipe = {
    ...base,
    weight,
    ...(approach === "static"
      ? {
          activation: { dtype: options.activationType ?? "uint8", symmetric: options.symmetricActivations ?? false },
          calibration: { method: options.calibrationMethod ?? "minmax", samples: options.samples ?? 256 },
        }
      : {}),
  };
  if (options.plan === undefined) return parseRecipe(fromOptions);
  const plan = typeof options.plan === "string" ? parseRecipe(options.plan, "plan") : parseRecipe(options.plan);
  if (plan.approach !== approach) {
    throw new ZeropointError("invalid-recipe", `the plan is for ${plan.approach} quantization, not ${approach}`);
  }
  return plan;
}

/** Filters from the options that decide whether a node may be quantized at all. */
export interface NodeSelection {
  readonly opTypes?: readonly string[] | undefined;
  readonly includeNodes?: readonly string[] | undefined;
  readonly excludeNodes?: readonly string[] | undefined;
}

/**
 * Why a node of a handled op type is not selected (op type filter, include/exclude lists, a plan's
 * keepFloat), or undefined when it is.
 */
export function selectionReason(
  node: { readonly opType?: string; readonly name?: string },
  selection: NodeSelection,
  recipe: Recipe,
): string | undefined {
  const op = node.opType ?? "";
  if (selection.opTypes !== undefined && !selection.opTypes.includes(op)) return "op type not selected";
  if (selection.includeNodes !== undefined && !selection.includeNodes.includes(node.name ?? ""))
    return "not in the include list";
  if (selection.excludeNodes?.includes(node.name ?? "")) return "excluded";
  if (resolveSettings(recipe, { opType: op, node: node.name ?? "" }).keepFloat) return "kept float by the plan";
  return undefined;
}
