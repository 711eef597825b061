import {
  type AdapterModel,
  accuracy,
  adapterRegistry,
  agreement,
  type CalibrationBatch,
  type CalibrationSource,
  calibrationSourceFromBatches,
  defaultRecipe,
  maxAbsDifference,
  type QuantizerAdapter,
  type QuantizeVariant,
  quantizedLayers,
  type Recipe,
  sqnr,
  top1,
  ZeropointError,
} from "@zeropoint/core";
import { registerAdapters } from "../adapters.js";
import type { CompareOptions, CompareReport, CompareRow, FloatRow } from "./compare-report.js";
import { evaluate } from "./evaluate-build.js";
import { activationHistograms } from "./histograms.js";

export type { CompareOptions, CompareReport, CompareRow, FloatRow } from "./compare-report.js";

const reason = (e: unknown) => `not supported: ${ZeropointError.isInstance(e) ? e.message : String(e)}`;

/** The recipe each approach runs with: the shared static recipe, core's defaults for the others. */
function recipeFor(variant: QuantizeVariant, shared: Recipe): Recipe | undefined {
  if (variant.approach === "static") return shared;
  return variant.approach === "qat" ? undefined : defaultRecipe(variant.approach);
}

/** Each adapter's float model: the source adapter loads the file, the others build from its IR. */
async function floatModels(source: QuantizerAdapter, loaded: AdapterModel, adapters: QuantizerAdapter[]) {
  const models = new Map<string, AdapterModel | string>();
  for (const adapter of adapters) {
    if (adapter === source) models.set(adapter.framework, loaded);
    else if (loaded.ir === undefined) models.set(adapter.framework, `not supported: ${loaded.irError}`);
    else models.set(adapter.framework, await adapter.fromIr(loaded.ir).catch(reason));
  }
  return models;
}

interface Context {
  readonly input: string;
  readonly options: CompareOptions;
  readonly sampleShape: number[];
}

/** The float rows: each model's accuracy and its largest logit difference from the source model's. */
async function floatRows(
  models: ReadonlyMap<string, AdapterModel | string>,
  loaded: AdapterModel,
  reference: Float32Array,
  context: Context,
): Promise<FloatRow[]> {
  const { labels, count } = context.options.evaluation;
  const rows: FloatRow[] = [];
  for (const [framework, model] of models) {
    if (typeof model === "string") {
      rows.push({ framework, runtime: "-", unsupported: model });
      continue;
    }
    const logits =
      model === loaded
        ? reference
        : (await evaluate(model.float, context.input, context.options, context.sampleShape)).logits;
    rows.push({
      framework,
      runtime: model.float.runtime,
      accuracy: accuracy(top1(logits, count), labels) as number,
      maxLogitDifference: maxAbsDifference(logits, reference),
    });
  }
  return rows;
}

/** One variant quantized and measured, or the reason it could not be. */
async function variantRow(
  adapter: QuantizerAdapter,
  model: AdapterModel,
  variant: QuantizeVariant,
  recipe: Recipe,
  context: Context & { reference: Float32Array; floatTop: Int32Array; calibration: CalibrationSource },
): Promise<CompareRow> {
  const { labels, count } = context.options.evaluation;
  const base = { framework: adapter.framework, ...variant };
  try {
    const started = performance.now();
    const build = await adapter.quantize(
      model,
      recipe,
      { calibration: context.calibration },
      { format: variant.format },
    );
    const quantizeSeconds = (performance.now() - started) / 1000;
    const r = await evaluate(build, context.input, context.options, context.sampleShape);
    const top = top1(r.logits, count);
    const layers = build.layerParams();
    return {
      ...base,
      runtime: build.runtime,
      accuracy: accuracy(top, labels) as number,
      top1Agreement: agreement(top, context.floatTop),
      sqnr: sqnr(context.reference, r.logits),
      sizeBytes: build.sizeBytes(),
      ...(build.sizeNote !== undefined ? { sizeNote: build.sizeNote } : {}),
      latencyMs: r.ms,
      quantizeSeconds,
      ...(Object.keys(layers).length > 0 ? { layers } : {}),
    };
  } catch (e) {
    return { ...base, runtime: "-", unsupported: reason(e) };
  }
}

/**
 * Quantizes one model with every registered adapter and variant that can take it, with one shared
 * recipe per approach applied on top of each framework's native scheme, and measures each build
 * on the same data. The file's own adapter loads it; the others build from its IR. Nothing here
 * knows a framework: a new adapter in the registry is a new set of rows.
 */
export async function compareModel(options: CompareOptions): Promise<CompareReport> {
  const step = options.onStep ?? (() => {});
  const recipe = options.recipe ?? defaultRecipe("static");
  if (recipe.approach !== "static")
    throw new ZeropointError(
      "invalid-recipe",
      `compare's recipe sets the static approach; ${recipe.name ?? "this recipe"} is ${recipe.approach}`,
    );
  if (options.registry === undefined) await registerAdapters();
  const registry = options.registry ?? adapterRegistry;
  const source = options.source?.adapter ?? (await registry.resolve(options.model));
  const loaded = options.source?.model ?? (await source.load(options.model));
  const input = loaded.inputs[0];
  if (input === undefined || loaded.inputs.length !== 1)
    throw new ZeropointError(
      "invalid-argument",
      `compare takes a single-input model; ${options.model} has ${loaded.inputs.length}`,
    );
  const sampleShape = input.dims.slice(1).map(Number);
  const batches: CalibrationBatch[] = options.calibration.map((data) => ({
    [input.name]: {
      dtype: "float32",
      data,
      dims: [data.length / sampleShape.reduce((a, b) => a * b, 1), ...sampleShape],
    },
  }));
  const calibration = calibrationSourceFromBatches(batches);
  const { adapters, unavailable } = await registry.available();
  const models = await floatModels(source, loaded, adapters);
  const { count } = options.evaluation;

  step("float builds");
  const reference = await evaluate(loaded.float, input.name, options, sampleShape);
  const float: FloatRow[] = [
    ...unavailable.map((u) => ({ framework: u.framework, runtime: "-", unsupported: u.reason })),
    ...(await floatRows(models, loaded, reference.logits, { input: input.name, options, sampleShape })),
  ];
  const floatTop = top1(reference.logits, count);
  const context = { input: input.name, options, sampleShape, reference: reference.logits, floatTop, calibration };
  const rows: CompareRow[] = [];
  for (const adapter of adapters) {
    const model = models.get(adapter.framework) as AdapterModel | string;
    for (const variant of adapter.variants) {
      const variantRecipe = recipeFor(variant, recipe);
      if (variantRecipe === undefined) continue;
      if (typeof model === "string")
        rows.push({ framework: adapter.framework, ...variant, runtime: "-", unsupported: model });
      else {
        step(`${adapter.framework} ${variant.approach} ${variant.format}`);
        rows.push(await variantRow(adapter, model, variant, variantRecipe, context));
      }
    }
  }

  const layers = loaded.ir === undefined ? [] : quantizedLayers(loaded.ir);
  return {
    model: options.model,
    recipe: {
      name: recipe.name ?? "custom",
      method: recipe.calibration?.method ?? "minmax",
      perChannel: recipe.weight.granularity === "per-channel",
    },
    samples: { calibration: batches.reduce((a, b) => a + (Object.values(b)[0]?.dims[0] ?? 0), 0), evaluation: count },
    float,
    floatAgree: float.every((f) => f.maxLogitDifference === undefined || f.maxLogitDifference <= 1e-3),
    ...(loaded.irError !== undefined ? { irError: loaded.irError } : {}),
    layers: layers.map((l) => l.node.name),
    rows,
    histograms: await activationHistograms(adapters, models, layers, calibration),
  };
}
