import type * as tfl from "@tensorflow/tfjs-layers";
import {
  ADAPTER_SPECIFICATION_VERSION,
  type AdapterModel,
  batchRecord,
  type CalibrationSource,
  findVariant,
  type IrGraph,
  iterateSource,
  type LayerParams,
  type ModelBuild,
  type ModelInputSpec,
  type QuantizeData,
  type QuantizeRequest,
  type QuantizerAdapter,
  type QuantizeVariant,
  quantizedLayers,
  type Recipe,
  sqnr,
  ZeropointError,
} from "@zeropoint/core";
import { selectBackend } from "../backends/select-backend.js";
import { IntegerExecutor } from "../integer/integer-executor.js";
import { readModelArtifacts } from "../io/file-system-io.js";
import { loadLayersModelChecked } from "../io/load-layers-model.js";
import { layersModelFromIr } from "../ir/layers-model-from-ir.js";
import { type QuantizedModel, quantizeStatic } from "../static/quantize-static.js";
import { quantizeWeights } from "../weight-only/quantize-weights.js";
import { looksLikeTfjsModel } from "./registration.js";
import { artifactsOf, layersPredict, modelFiles, singleInput, tfjsBuild } from "./tfjs-build.js";

const VARIANTS: readonly QuantizeVariant[] = [
  { approach: "static", format: "fake-quant", emulated: true },
  { approach: "static", format: "integer executor", emulated: false },
  { approach: "weight-only", format: "storage uint8", emulated: false },
];

interface Native {
  readonly model: tfl.LayersModel;
  /** IR node name → tfjs layer name (models built from IR). */
  readonly layerOf: ReadonlyMap<string, string>;
}

function inputSpecs(model: tfl.LayersModel): ModelInputSpec[] {
  return model.inputs.map((i) => ({
    name: i.name,
    dtype: "float32" as const,
    dims: i.shape.map((d) => d ?? "batch"),
    batchAxis: 0,
  }));
}

async function* floatBatches(source: CalibrationSource): AsyncGenerator<Float32Array> {
  for await (const batch of iterateSource(source)) yield singleInput(batchRecord(batch)).data;
}

/** Per IR layer: the output tensor's parameters and the kernel's SQNR, fake-quantized against float. */
function staticLayerParams(ir: IrGraph | undefined, native: Native, q: QuantizedModel): Record<string, LayerParams> {
  const out: Record<string, LayerParams> = {};
  for (const { node } of ir === undefined ? [] : quantizedLayers(ir)) {
    const name = native.layerOf.get(node.name);
    const t = name === undefined ? undefined : q.parameters.tensors[name];
    if (name === undefined || t === undefined) continue;
    const floatKernel = native.model.getLayer(name).getWeights()[0]?.dataSync() as Float32Array;
    const fqKernel = q.model.getLayer(name).getWeights()[0]?.dataSync() as Float32Array;
    out[node.name] = {
      scale: t.scale[0] as number,
      zeroPoint: t.zeroPoint[0] as number,
      qmin: t.qmin,
      qmax: t.qmax,
      weightSqnr: sqnr(floatKernel, fqKernel),
    };
  }
  return out;
}

async function quantizeStaticBuild(
  model: AdapterModel,
  recipe: Recipe,
  source: CalibrationSource,
  variant: QuantizeVariant,
  runtime: string,
): Promise<ModelBuild> {
  const native = model.native as Native;
  const perChannel = recipe.weight.granularity === "per-channel";
  // tfjs keeps TFMOT's scheme and honours the recipe's weight granularity, Dense included.
  const q = await quantizeStatic(native.model, {
    calibration: floatBatches(source),
    observer: recipe.calibration?.method ?? "minmax",
    weights: { perChannelConv: perChannel, perChannelDense: perChannel },
  });
  let weightBytes = 0;
  for (const l of q.parameters.layers)
    if (l.kernel !== undefined) weightBytes += q.model.getLayer(l.name).getWeights()[0]?.size ?? 0;
  const layerParams = staticLayerParams(model.ir, native, q);
  if (variant.format === "fake-quant")
    return tfjsBuild({
      variant,
      runtime,
      predict: layersPredict(q.model),
      sizeBytes: weightBytes,
      sizeNote: "as int8 kernels (the emulated model stores float32)",
      layerParams,
      artifacts: () => artifactsOf(q.model),
    });
  const executor = IntegerExecutor.fromModel(q.parameters, q.model);
  const output = q.parameters.outputs[0] as string;
  return tfjsBuild({
    variant,
    runtime: "zeropoint integer executor (core int8 kernels)",
    predict: (x, dims) => executor.run(x, dims).outputs.get(output)?.data as Float32Array,
    sizeBytes: weightBytes,
    sizeNote: "int8 kernels",
    layerParams,
  });
}

async function quantizeWeightOnly(model: AdapterModel, variant: QuantizeVariant, runtime: string): Promise<ModelBuild> {
  const result = quantizeWeights(await artifactsOf((model.native as Native).model), { weightType: "uint8" });
  const loaded = await loadLayersModelChecked(result.artifacts);
  return tfjsBuild({
    variant,
    runtime,
    predict: layersPredict(loaded),
    sizeBytes: result.bytesAfter + JSON.stringify(result.artifacts.modelTopology).length,
    sizeNote: "weights + model.json topology",
    artifacts: async () => result.artifacts,
  });
}

/**
 * The TensorFlow.js adapter behind core's {@link QuantizerAdapter} contract: loads `model.json`
 * LayersModels, builds them from IR, quantizes static PTQ emulated in float (TFMOT's int8 scheme)
 * with an integer executor beside it, and weight-only uint8 storage that stock tfjs loads. The
 * backend is chosen on creation (`preferred`, else tfjs-node, wasm, cpu: whichever is installed).
 */
export async function createTfjsAdapter(options: { backend?: string } = {}): Promise<QuantizerAdapter> {
  const backend = await selectBackend(options.backend);
  const runtime = `tfjs 4.22 (${backend})`;
  const wrap = (
    files: readonly string[],
    model: tfl.LayersModel,
    layerOf: ReadonlyMap<string, string>,
    source: string,
    ir: IrGraph | undefined,
    irError: string | undefined,
  ): AdapterModel => ({
    framework: "tfjs",
    source,
    files,
    inputs: inputSpecs(model),
    ir,
    irError,
    float: tfjsBuild({
      variant: "float",
      runtime: `tfjs LayersModel (${backend})`,
      predict: layersPredict(model),
      sizeBytes: 0,
      artifacts: () => artifactsOf(model),
    }),
    native: { model, layerOf } satisfies Native,
  });
  return {
    specificationVersion: ADAPTER_SPECIFICATION_VERSION,
    framework: "tfjs",
    variants: VARIANTS,
    canLoad: looksLikeTfjsModel,
    load: async (path) => {
      const model = await loadLayersModelChecked(readModelArtifacts(path), path);
      return wrap(
        modelFiles(path),
        model,
        new Map(),
        path,
        undefined,
        "tfjs LayersModels do not convert to IR (IR → tfjs only)",
      );
    },
    fromIr: async (ir) => {
      const { model, layerOf } = layersModelFromIr(ir);
      return wrap([], model, layerOf, `ir:${ir.name}`, ir, undefined);
    },
    quantize: async (model: AdapterModel, recipe: Recipe, data: QuantizeData, request?: QuantizeRequest) => {
      const variant = findVariant("tfjs", VARIANTS, recipe.approach, request?.format);
      if (variant.approach === "weight-only") return quantizeWeightOnly(model, variant, runtime);
      if (data.calibration === undefined)
        throw new ZeropointError("empty-data", "tfjs static quantization needs calibration data");
      return quantizeStaticBuild(model, recipe, data.calibration, variant, runtime);
    },
  };
}
