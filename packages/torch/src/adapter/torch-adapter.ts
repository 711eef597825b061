import {
  ADAPTER_SPECIFICATION_VERSION,
  type AdapterModel,
  batchRecord,
  type CalibrationSource,
  createObserver,
  findVariant,
  type IrGraph,
  irInputSpecs,
  iterateSource,
  type LayerParams,
  type ModelBuild,
  type QuantizeData,
  type QuantizeRequest,
  type QuantizerAdapter,
  type QuantizeVariant,
  quantizedLayers,
  type Recipe,
  ZeropointError,
} from "@zeropoint/core";
import { noGrad, Tensor } from "../autograd/tensor.js";
import { QConfigMapping } from "../fx/qconfig-mapping.js";
import { convertFx, prepareFx } from "../fx/quantize-fx.js";
import { moduleFromIr } from "../ir/module-from-ir.js";
import { Sequential } from "../nn/layers.js";
import type { Module } from "../nn/module.js";
import { quantizeDynamic } from "../quantization/dynamic.js";
import { convert, prepare } from "../quantization/eager.js";
import { fuseModules } from "../quantization/fuse.js";
import { DeQuantStub, QuantStub } from "../quantization/stubs.js";
import { inputTensor, moduleLayerParams, stateBytes, torchBuild } from "./torch-build.js";

const VARIANTS: readonly QuantizeVariant[] = [
  { approach: "static", format: "eager", emulated: false },
  { approach: "static", format: "FX", emulated: false },
  { approach: "dynamic", format: "eager", emulated: false },
];

const SIZE_NOTE = "int8 weights + scales + float biases";

async function* calibrationTensors(source: CalibrationSource): AsyncGenerator<Tensor> {
  for await (const batch of iterateSource(source)) yield inputTensor(batchRecord(batch));
}

async function calibrate(model: { call(x: Tensor): unknown }, source: CalibrationSource): Promise<void> {
  let batches = 0;
  for await (const x of calibrationTensors(source)) {
    batches++;
    noGrad(() => model.call(x));
  }
  if (batches === 0) throw new ZeropointError("empty-data", "torch static quantization: the calibration data is empty");
}

/** The recipe on PyTorch's x86 defaults: its calibration method and weight granularity, reduce_range activations. */
function qconfigFor(recipe: Recipe) {
  const method = recipe.calibration?.method ?? "minmax";
  if (createObserver(method).passes !== 1)
    throw new ZeropointError("unsupported-op", `torch observers calibrate in one pass; ${method} needs two`);
  const perChannel = recipe.weight.granularity === "per-channel";
  return {
    engine: "x86" as const,
    activation: () => createObserver(method, { dtype: "uint8", reduceRange: true }),
    weight: () =>
      perChannel
        ? createObserver("per-channel-minmax", { dtype: "int8", symmetric: true, axis: 0 })
        : createObserver("minmax", { dtype: "int8", symmetric: true }),
  };
}

function layerParamsOf(ir: IrGraph, modules: Map<string, Module>, moduleName: (node: string) => string | undefined) {
  const out: Record<string, LayerParams> = {};
  for (const { node } of quantizedLayers(ir)) {
    const name = moduleName(node.name);
    const p = name === undefined ? undefined : moduleLayerParams(modules.get(name), node);
    if (p !== undefined) out[node.name] = p;
  }
  return out;
}

async function quantizeEager(ir: IrGraph, recipe: Recipe, source: CalibrationSource, variant: QuantizeVariant) {
  const { module, moduleOf } = moduleFromIr(ir);
  const model = new Sequential(["quant", new QuantStub()], ["inner", module], ["dequant", new DeQuantStub()]).eval();
  const fusions = quantizedLayers(ir)
    .filter((l) => l.outputNode !== l.node)
    .map((l) => [`inner.${moduleOf.get(l.node.name)}`, `inner.${moduleOf.get(l.outputNode.name)}`]);
  fuseModules(model, fusions);
  prepare(model, qconfigFor(recipe));
  await calibrate(model, source);
  convert(model);
  const layerParams = layerParamsOf(ir, new Map(model.namedModules()), (n) => `inner.${moduleOf.get(n)}`);
  return torchBuild(model, variant, { sizeBytes: stateBytes(model), sizeNote: SIZE_NOTE, layerParams });
}

async function quantizeFx(ir: IrGraph, recipe: Recipe, source: CalibrationSource, variant: QuantizeVariant) {
  const { module, moduleOf } = moduleFromIr(ir);
  let example: Tensor | undefined;
  for await (const x of calibrationTensors(source)) {
    example = new Tensor(x.data.subarray(0, x.data.length / (x.shape[0] as number)), [1, ...x.shape.slice(1)]);
    break;
  }
  if (example === undefined)
    throw new ZeropointError("empty-data", "torch FX quantization: the calibration data is empty");
  const prepared = prepareFx(module, new QConfigMapping().setGlobal(qconfigFor(recipe)), example);
  await calibrate(prepared, source);
  const converted = convertFx(prepared);
  const layerParams = layerParamsOf(ir, new Map(converted.namedModules()), (n) => moduleOf.get(n));
  return torchBuild(converted, variant, { sizeBytes: stateBytes(converted), sizeNote: SIZE_NOTE, layerParams });
}

function irOf(model: AdapterModel): IrGraph {
  if (model.ir === undefined)
    throw new ZeropointError("unsupported-op", `the torch adapter builds from IR; ${model.source}: ${model.irError}`);
  return model.ir;
}

async function quantize(
  model: AdapterModel,
  recipe: Recipe,
  data: QuantizeData,
  request?: QuantizeRequest,
): Promise<ModelBuild> {
  const variant = findVariant("torch", VARIANTS, recipe.approach, request?.format);
  const ir = irOf(model);
  if (variant.approach === "dynamic") {
    const q = quantizeDynamic(moduleFromIr(ir).module);
    return torchBuild(q, variant, { sizeBytes: stateBytes(q), sizeNote: "int8 Linear weights + float rest" });
  }
  if (data.calibration === undefined)
    throw new ZeropointError("empty-data", "torch static quantization needs calibration data");
  return variant.format === "eager"
    ? quantizeEager(ir, recipe, data.calibration, variant)
    : quantizeFx(ir, recipe, data.calibration, variant);
}

/** Float values of IR tensors over the data: each top-level child's output, for the IR nodes asked. */
async function activations(
  model: AdapterModel,
  tensors: readonly string[],
  data: CalibrationSource,
): Promise<Map<string, Float32Array>> {
  const ir = irOf(model);
  const { module, moduleOf } = model.native as ReturnType<typeof moduleFromIr>;
  const wanted = new Map<string, string>();
  for (const node of ir.nodes)
    if (tensors.includes(node.output)) wanted.set(moduleOf.get(node.name) as string, node.output);
  const parts = new Map<string, Float32Array[]>();
  for await (const x0 of calibrationTensors(data)) {
    noGrad(() => {
      let x = x0;
      for (const [name, child] of module.namedChildren()) {
        x = child.call(x);
        const tensor = wanted.get(name);
        if (tensor === undefined) continue;
        const list = parts.get(tensor) ?? [];
        list.push(Float32Array.from(x.data));
        parts.set(tensor, list);
      }
    });
  }
  return new Map(
    [...parts].map(([k, list]) => {
      const all = new Float32Array(list.reduce((a, p) => a + p.length, 0));
      let at = 0;
      for (const p of list) {
        all.set(p, at);
        at += p.length;
      }
      return [k, all];
    }),
  );
}

/**
 * The PyTorch-emulation adapter behind core's {@link QuantizerAdapter} contract: builds a
 * Sequential from IR and quantizes it the way PyTorch 2.x does on x86 (eager and FX static PTQ,
 * eager dynamic), in TypeScript reproducing fbgemm's arithmetic. It loads no files: PyTorch
 * checkpoints carry weights, not the module code.
 */
export function createTorchAdapter(): QuantizerAdapter {
  return {
    specificationVersion: ADAPTER_SPECIFICATION_VERSION,
    framework: "torch",
    variants: VARIANTS,
    canLoad: () => false,
    load: async (source) => {
      throw new ZeropointError(
        "unsupported-op",
        `${source}: the torch adapter builds models from IR (fromIr), it loads no files`,
      );
    },
    fromIr: async (ir) => {
      const built = moduleFromIr(ir);
      const float = torchBuild(built.module, "float", { sizeBytes: 0 });
      const inputs = irInputSpecs(ir);
      return {
        framework: "torch",
        source: `ir:${ir.name}`,
        files: [],
        inputs,
        ir,
        irError: undefined,
        float,
        native: built,
      };
    },
    quantize,
    activations,
  };
}
