import { isQuantDtype, QUANT_DTYPES, type QuantDtype } from "../dtype/dtype.js";
import { ZeropointError } from "../errors/zeropoint-error.js";
import { QUANT_CONVENTIONS, type QuantConvention, type QuantScheme } from "../scheme/scheme.js";

/** The four approaches of the support matrix. */
export type Approach = "static" | "dynamic" | "weight-only" | "qat";
/** All approaches. */
export const APPROACHES: readonly Approach[] = ["static", "dynamic", "weight-only", "qat"];

/** Calibration methods a recipe may name (observer kinds that produce per-tensor activation ranges). */
export type CalibrationMethod = "minmax" | "moving-average-minmax" | "histogram" | "entropy" | "percentile" | "mse";
/** All calibration methods. */
export const CALIBRATION_METHODS: readonly CalibrationMethod[] = [
  "minmax",
  "moving-average-minmax",
  "histogram",
  "entropy",
  "percentile",
  "mse",
];

/** How activations are calibrated. */
export interface CalibrationSpec {
  readonly method: CalibrationMethod;
  /** Number of calibration samples to use. Default 256. */
  readonly samples?: number;
  readonly bins?: number;
  readonly quantizedBins?: number;
  readonly percentile?: number;
  readonly averagingConstant?: number;
  /** Calibrator's own symmetric flag (see ObserverOptions.symmetric). */
  readonly symmetric?: boolean;
}

/** Explicit quantization parameters for one tensor (per-tensor or per-channel). */
export interface ExplicitQParams {
  readonly scale: readonly number[];
  readonly zeroPoint: readonly number[];
  readonly dtype: QuantDtype;
  readonly axis?: number;
}

/** A per-node, per-op-type or per-tensor deviation from the recipe's defaults. */
export interface RecipeOverride {
  /** Leave this node/tensor in float. */
  readonly keepFloat?: boolean;
  /** Replaces fields of the default weight scheme. */
  readonly weight?: Partial<QuantScheme>;
  /** Replaces fields of the default activation scheme. */
  readonly activation?: Partial<QuantScheme>;
  /** Fixed parameters (tensor overrides only). */
  readonly qparams?: ExplicitQParams;
}

/**
 * One schema for what to quantize how, shared by every adapter, the CLI, `compare` and `tune`.
 * A tuned plan is a recipe whose overrides name individual nodes.
 */
export interface Recipe {
  readonly format: "zeropoint-recipe";
  readonly version: 1;
  readonly name?: string;
  readonly approach: Approach;
  /** Arithmetic of the qparams; adapters default to their framework's own. */
  readonly convention?: QuantConvention;
  readonly weight: QuantScheme;
  /** Absent for weight-only and (by default) dynamic, whose activations are quantized at run time. */
  readonly activation?: QuantScheme;
  /** Required for static; optional for QAT (initial ranges). */
  readonly calibration?: CalibrationSpec;
  readonly overrides?: {
    readonly opTypes?: Readonly<Record<string, RecipeOverride>>;
    readonly nodes?: Readonly<Record<string, RecipeOverride>>;
    readonly tensors?: Readonly<Record<string, RecipeOverride>>;
  };
}

/** A tuned plan: the recipe schema, with node-level decisions in `overrides.nodes`. */
export type QuantizationPlan = Recipe;

/** Built-in defaults: per-channel symmetric int8 weights, per-tensor affine uint8 activations. */
export function defaultRecipe(approach: Approach): Recipe {
  const weight: QuantScheme = { dtype: "int8", symmetric: true, granularity: "per-channel", axis: 0 };
  const activation: QuantScheme = { dtype: "uint8", symmetric: false, granularity: "per-tensor" };
  switch (approach) {
    case "static":
      return {
        format: "zeropoint-recipe",
        version: 1,
        name: "static-default",
        approach,
        weight,
        activation,
        calibration: { method: "minmax", samples: 256 },
      };
    case "dynamic":
      return {
        format: "zeropoint-recipe",
        version: 1,
        name: "dynamic-default",
        approach,
        weight: { dtype: "int8", symmetric: true, granularity: "per-tensor" },
      };
    case "weight-only":
      return { format: "zeropoint-recipe", version: 1, name: "weight-only-default", approach, weight };
    case "qat":
      return {
        format: "zeropoint-recipe",
        version: 1,
        name: "qat-default",
        approach,
        weight,
        activation,
        calibration: { method: "moving-average-minmax", samples: 256 },
      };
  }
}

/** What applies to one node and tensor after resolving overrides. */
export interface ResolvedSettings {
  readonly keepFloat: boolean;
  readonly weight: QuantScheme;
  readonly activation: QuantScheme | undefined;
  readonly qparams: ExplicitQParams | undefined;
}

/**
 * Resolves the settings for a node (and optionally one of its tensors). Priority, lowest first:
 * recipe defaults < op type < node name < tensor name (as PyTorch's QConfigMapping: global < type < name).
 */
export function resolveSettings(
  recipe: Recipe,
  target: { opType?: string; node?: string; tensor?: string },
): ResolvedSettings {
  let weight: QuantScheme = recipe.weight;
  let activation: QuantScheme | undefined = recipe.activation;
  let keepFloat = false;
  let qparams: ExplicitQParams | undefined;
  const layers = [
    target.opType === undefined ? undefined : recipe.overrides?.opTypes?.[target.opType],
    target.node === undefined ? undefined : recipe.overrides?.nodes?.[target.node],
    target.tensor === undefined ? undefined : recipe.overrides?.tensors?.[target.tensor],
  ];
  for (const o of layers) {
    if (o === undefined) continue;
    if (o.keepFloat !== undefined) keepFloat = o.keepFloat;
    if (o.weight !== undefined) weight = { ...weight, ...o.weight };
    if (o.activation !== undefined) activation = { ...(activation ?? { dtype: "uint8" }), ...o.activation };
    if (o.qparams !== undefined) qparams = o.qparams;
  }
  return { keepFloat, weight, activation, qparams };
}

class Issues {
  readonly list: string[] = [];
  add(path: string, message: string): void {
    this.list.push(`${path}: ${message}`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const SCHEME_KEYS = new Set([
  "dtype",
  "symmetric",
  "granularity",
  "axis",
  "groupSize",
  "reduceRange",
  "narrowRange",
  "quantMin",
  "quantMax",
]);

function checkScheme(v: unknown, path: string, issues: Issues, partial: boolean): void {
  if (!isObject(v)) {
    issues.add(path, "expected an object");
    return;
  }
  for (const k of Object.keys(v)) if (!SCHEME_KEYS.has(k)) issues.add(`${path}.${k}`, "unknown field");
  if (!partial || v.dtype !== undefined) {
    if (!isQuantDtype(v.dtype)) issues.add(`${path}.dtype`, `expected one of ${QUANT_DTYPES.join(", ")}`);
  }
  for (const k of ["symmetric", "reduceRange", "narrowRange"]) {
    if (v[k] !== undefined && typeof v[k] !== "boolean") issues.add(`${path}.${k}`, "expected a boolean");
  }
  if (v.granularity !== undefined && !["per-tensor", "per-channel", "per-group"].includes(v.granularity as string)) {
    issues.add(`${path}.granularity`, "expected per-tensor, per-channel or per-group");
  }
  for (const k of ["axis", "quantMin", "quantMax"]) {
    if (v[k] !== undefined && !Number.isInteger(v[k])) issues.add(`${path}.${k}`, "expected an integer");
  }
  if (v.groupSize !== undefined && !(Number.isInteger(v.groupSize) && (v.groupSize as number) > 0)) {
    issues.add(`${path}.groupSize`, "expected a positive integer");
  }
  if (v.granularity === "per-group" && v.groupSize === undefined)
    issues.add(`${path}.groupSize`, "required for per-group");
  if ((v.quantMin === undefined) !== (v.quantMax === undefined)) issues.add(path, "quantMin and quantMax go together");
}

function checkOverride(v: unknown, path: string, issues: Issues, allowQParams: boolean): void {
  if (!isObject(v)) {
    issues.add(path, "expected an object");
    return;
  }
  for (const k of Object.keys(v)) {
    if (!["keepFloat", "weight", "activation", "qparams"].includes(k)) issues.add(`${path}.${k}`, "unknown field");
  }
  if (v.keepFloat !== undefined && typeof v.keepFloat !== "boolean")
    issues.add(`${path}.keepFloat`, "expected a boolean");
  if (v.weight !== undefined) checkScheme(v.weight, `${path}.weight`, issues, true);
  if (v.activation !== undefined) checkScheme(v.activation, `${path}.activation`, issues, true);
  if (v.qparams !== undefined) {
    if (!allowQParams) {
      issues.add(`${path}.qparams`, "explicit qparams are only allowed on tensor overrides");
      return;
    }
    const q = v.qparams;
    if (!isObject(q)) {
      issues.add(`${path}.qparams`, "expected an object");
      return;
    }
    const scale = q.scale;
    const zp = q.zeroPoint;
    if (
      !Array.isArray(scale) ||
      scale.length === 0 ||
      !scale.every((s) => typeof s === "number" && s > 0 && Number.isFinite(s))
    ) {
      issues.add(`${path}.qparams.scale`, "expected a non-empty array of positive finite numbers");
    }
    if (!Array.isArray(zp) || !zp.every((z) => Number.isInteger(z)))
      issues.add(`${path}.qparams.zeroPoint`, "expected an array of integers");
    else if (Array.isArray(scale) && zp.length !== scale.length)
      issues.add(`${path}.qparams.zeroPoint`, "must have as many entries as scale");
    if (!isQuantDtype(q.dtype)) issues.add(`${path}.qparams.dtype`, `expected one of ${QUANT_DTYPES.join(", ")}`);
  }
}

/**
 * Validates and returns a recipe (from an object or JSON text). All problems are reported at once
 * in one `invalid-recipe` error, each as `path: message`; `source` (a file name) prefixes the message.
 */
export function parseRecipe(input: unknown, source = "recipe"): Recipe {
  let v: unknown = input;
  if (typeof input === "string") {
    try {
      v = JSON.parse(input);
    } catch (cause) {
      throw new ZeropointError("invalid-recipe", `${source}: not valid JSON (${(cause as Error).message})`, { cause });
    }
  }
  const issues = new Issues();
  if (!isObject(v)) throw new ZeropointError("invalid-recipe", `${source}: expected a JSON object`);
  const known = new Set([
    "format",
    "version",
    "name",
    "approach",
    "convention",
    "weight",
    "activation",
    "calibration",
    "overrides",
  ]);
  for (const k of Object.keys(v)) if (!known.has(k)) issues.add(k, "unknown field");
  if (v.format !== "zeropoint-recipe") issues.add("format", 'expected "zeropoint-recipe"');
  if (v.version !== 1) issues.add("version", "expected 1");
  if (v.name !== undefined && typeof v.name !== "string") issues.add("name", "expected a string");
  if (!APPROACHES.includes(v.approach as Approach)) issues.add("approach", `expected one of ${APPROACHES.join(", ")}`);
  if (v.convention !== undefined && !QUANT_CONVENTIONS.includes(v.convention as QuantConvention)) {
    issues.add("convention", `expected one of ${QUANT_CONVENTIONS.join(", ")}`);
  }
  checkScheme(v.weight, "weight", issues, false);
  if (v.activation !== undefined) checkScheme(v.activation, "activation", issues, false);
  if ((v.approach === "static" || v.approach === "qat") && v.activation === undefined) {
    issues.add("activation", `required for ${v.approach as string}`);
  }
  if (v.approach === "weight-only" && v.activation !== undefined)
    issues.add("activation", "weight-only recipes keep activations in float");
  if (v.calibration !== undefined) {
    const c = v.calibration;
    if (!isObject(c)) issues.add("calibration", "expected an object");
    else {
      if (!CALIBRATION_METHODS.includes(c.method as CalibrationMethod)) {
        issues.add("calibration.method", `expected one of ${CALIBRATION_METHODS.join(", ")}`);
      }
      for (const k of ["samples", "bins", "quantizedBins"]) {
        if (c[k] !== undefined && !(Number.isInteger(c[k]) && (c[k] as number) > 0))
          issues.add(`calibration.${k}`, "expected a positive integer");
      }
      if (
        c.percentile !== undefined &&
        !(typeof c.percentile === "number" && c.percentile >= 0 && c.percentile <= 100)
      ) {
        issues.add("calibration.percentile", "expected a number in [0, 100]");
      }
    }
  } else if (v.approach === "static") issues.add("calibration", "required for static");
  if (v.overrides !== undefined) {
    const o = v.overrides;
    if (!isObject(o)) issues.add("overrides", "expected an object");
    else {
      for (const k of Object.keys(o))
        if (!["opTypes", "nodes", "tensors"].includes(k)) issues.add(`overrides.${k}`, "unknown field");
      for (const group of ["opTypes", "nodes", "tensors"] as const) {
        const g = o[group];
        if (g === undefined) continue;
        if (!isObject(g)) {
          issues.add(`overrides.${group}`, "expected an object");
          continue;
        }
        for (const [name, ov] of Object.entries(g))
          checkOverride(ov, `overrides.${group}.${name}`, issues, group === "tensors");
      }
    }
  }
  if (issues.list.length > 0) {
    throw new ZeropointError("invalid-recipe", `${source} is invalid:\n  ${issues.list.join("\n  ")}`, {
      details: { issues: issues.list },
    });
  }
  return v as unknown as Recipe;
}

/** Serializes a recipe as stable, readable JSON (validated first). */
export function recipeToJSON(recipe: Recipe): string {
  parseRecipe(recipe);
  return `${JSON.stringify(recipe, null, 2)}\n`;
}
