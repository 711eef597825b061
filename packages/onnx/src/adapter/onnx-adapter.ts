import { resolve } from "node:path";
import {
  ADAPTER_SPECIFICATION_VERSION,
  type AdapterModel,
  dtypeInfo,
  findVariant,
  type IrGraph,
  type IrNode,
  type LayerParams,
  type ModelBuild,
  type QuantizeData,
  type QuantizeRequest,
  type QuantizerAdapter,
  type QuantizeVariant,
  quantizedLayers,
  type Recipe,
  sqnr,
  ZeropointError,
} from "@zeropoint/core";
import { irToOnnx } from "../ir/ir-to-onnx.js";
import { onnxToIr } from "../ir/onnx-to-ir.js";
import { modelInputSpecs } from "../model/input-specs.js";
import { externalDataFiles, loadModel } from "../model/model-io.js";
import type { OnnxModel } from "../model/onnx-schema.js";
import { readFloat32, readIntegers, tensorDims } from "../model/tensor-data.js";
import { quantizeDynamic } from "../quantize/quantize-dynamic.js";
import { type QuantizeReport, quantizeStatic } from "../quantize/quantize-static.js";
import { createOnnxTuningAdapter } from "../tune/onnx-tuning.js";
import { onnxBuild } from "./onnx-build.js";

const VARIANTS: readonly QuantizeVariant[] = [
  { approach: "static", format: "QDQ", emulated: false },
  { approach: "static", format: "QOperator", emulated: false },
  { approach: "dynamic", format: "IntegerOps", emulated: false },
];

async function adapterModel(model: OnnxModel, source: string, ir?: IrGraph, path?: string): Promise<AdapterModel> {
  let irError: string | undefined;
  if (ir === undefined) {
    try {
      ir = onnxToIr(model, source.replace(/^.*\//, "").replace(/\.onnx$/, ""));
    } catch (e) {
      irError = ZeropointError.isInstance(e) ? e.message : String(e);
    }
  }
  const float = await onnxBuild(model, { variant: "float", ...(path !== undefined ? { path } : {}) });
  return {
    framework: "onnx",
    source,
    files: path === undefined ? [] : [resolve(path), ...externalDataFiles(path)],
    inputs: modelInputSpecs(model),
    ir,
    irError,
    float,
    native: model,
  };
}

/**
 * Weight SQNR of one layer in a QDQ model: the DequantizeLinear feeding the layer's weight input,
 * dequantized (per-tensor or along its axis) against the IR's float weight.
 */
function qdqWeightSqnr(model: OnnxModel, node: IrNode): number | undefined {
  const graph = model.graph;
  const reference = node.weights.weight;
  if (graph === undefined || reference === undefined) return undefined;
  const layer = graph.node.find((n) => n.name === node.name);
  const dq = graph.node.find((n) => n.opType === "DequantizeLinear" && n.output[0] === layer?.input[1]);
  const init = (name: string | undefined) => graph.initializer.find((t) => t.name === name);
  const q = init(dq?.input[0]);
  const scale = init(dq?.input[1]);
  if (dq === undefined || q === undefined || scale === undefined) return undefined;
  const ints = readIntegers(q);
  const scales = readFloat32(scale);
  const zeroPoint = init(dq.input[2]);
  const zps = zeroPoint !== undefined ? readIntegers(zeroPoint) : [0];
  if (ints.length !== reference.data.length) return undefined;
  const dims = tensorDims(q);
  const axisAttr = Number(dq.attribute.find((a) => a.name === "axis")?.i ?? 1);
  const axis = scales.length === 1 ? 0 : axisAttr < 0 ? dims.length + axisAttr : axisAttr;
  const stride = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const dequantized = new Float32Array(ints.length);
  for (let i = 0; i < ints.length; i++) {
    const c = scales.length === 1 ? 0 : Math.floor(i / stride) % (dims[axis] as number);
    dequantized[i] = ((ints[i] as number) - (zps[c] ?? zps[0] ?? 0)) * (scales[c] as number);
  }
  return sqnr(reference.data, dequantized);
}

/** Output parameters of each quantized IR layer, read from the quantizer's report. */
function staticLayerParams(
  ir: IrGraph | undefined,
  report: QuantizeReport,
  quantized: OnnxModel,
  qdq: boolean,
): Record<string, LayerParams> {
  const out: Record<string, LayerParams> = {};
  for (const { node, outputNode } of ir === undefined ? [] : quantizedLayers(ir)) {
    let a = report.activations?.[outputNode.output];
    if (a?.sharedWith !== undefined) a = report.activations?.[a.sharedWith] ?? a;
    if (a === undefined) continue;
    const { min, max } = dtypeInfo(a.dtype);
    const weightSqnr = qdq ? qdqWeightSqnr(quantized, node) : undefined;
    out[node.name] = {
      scale: a.scale,
      zeroPoint: a.zeroPoint,
      qmin: min,
      qmax: max,
      ...(weightSqnr !== undefined ? { weightSqnr } : {}),
    };
  }
  return out;
}

async function quantize(
  model: AdapterModel,
  recipe: Recipe,
  data: QuantizeData,
  request?: QuantizeRequest,
): Promise<ModelBuild> {
  const variant = findVariant("onnx", VARIANTS, recipe.approach, request?.format);
  const native = model.native as OnnxModel;
  const weightType = recipe.weight.dtype === "uint8" ? "uint8" : "int8";
  if (variant.approach === "dynamic") {
    const { model: q } = await quantizeDynamic(native, { weightType });
    return onnxBuild(q, { variant });
  }
  if (data.calibration === undefined)
    throw new ZeropointError("empty-data", "onnx static quantization needs calibration data");
  const { model: q, report } = await quantizeStatic(native, {
    format: variant.format === "QDQ" ? "qdq" : "qoperator",
    perChannel: recipe.weight.granularity === "per-channel",
    calibrationData: data.calibration,
    calibrationMethod: recipe.calibration?.method ?? "minmax",
    activationType: recipe.activation?.dtype === "int8" ? "int8" : "uint8",
    weightType,
  });
  return onnxBuild(q, { variant, layerParams: staticLayerParams(model.ir, report, q, variant.format === "QDQ") });
}

/**
 * The ONNX adapter behind core's {@link QuantizerAdapter} contract: loads `.onnx` files (and
 * builds ONNX from IR), quantizes static QDQ/QOperator and dynamic IntegerOps with this package's
 * quantizer, and runs every build in onnxruntime-node (loaded lazily, an optional peer).
 */
export function createOnnxAdapter(): QuantizerAdapter {
  return {
    specificationVersion: ADAPTER_SPECIFICATION_VERSION,
    framework: "onnx",
    variants: VARIANTS,
    canLoad: (source) => source.endsWith(".onnx"),
    load: async (path) => adapterModel(loadModel(path).model, path, undefined, path),
    fromIr: async (ir) => adapterModel(irToOnnx(ir), `ir:${ir.name}`, ir),
    quantize,
    tuning: (model, data, recipe) =>
      createOnnxTuningAdapter(model.native as OnnxModel, {
        calibrationData: data.calibration,
        evaluation: data.evaluation,
        ...(recipe !== undefined ? { recipe } : {}),
      }),
  };
}
