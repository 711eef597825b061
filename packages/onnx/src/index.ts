/**
 * @packageDocumentation
 * `@zeropoint/onnx`: quantize ONNX models in Node. Static (QDQ and QOperator), dynamic (IntegerOps)
 * and weight-only quantization, calibrated with onnxruntime-node and zeropoint's core observers.
 */

export { createOnnxAdapter } from "./adapter/onnx-adapter.js";
export { onnxAdapterRegistration } from "./adapter/registration.js";
export {
  type CalibrateOptions,
  type CalibrationProgress,
  type CalibrationResult,
  calibrate,
  discoverTensorTypes,
} from "./calibration/calibrate.js";
export {
  asNamedTensor,
  type CalibrationBatch,
  type CalibrationSource,
  type CalibrationTensor,
  calibrationSourceFromBatches,
} from "./calibration/calibration-source.js";
export { onnxCapabilities, registerOnnxCapabilities } from "./capabilities.js";
export { checkQuantizedModel, type ModelCheck } from "./check/model-check.js";
export {
  convertToFloat16,
  FLOAT16_OP_BLOCK_LIST,
  type Float16ConvertOptions,
  type Float16Report,
} from "./convert/float16-convert.js";
export { forEachGraph, subgraphsOf } from "./graph/subgraphs.js";
export { irToOnnx } from "./ir/ir-to-onnx.js";
export { onnxToIr } from "./ir/onnx-to-ir.js";
export { elemTypeOf, modelInputSpecs, runtimeInputs, tensorDtypeOf } from "./model/input-specs.js";
export {
  encodeModel,
  externalDataFiles,
  type LoadedModel,
  loadModel,
  opsetVersion,
  type SaveOptions,
  saveModel,
} from "./model/model-io.js";
export type { OnnxGraph, OnnxModel, OnnxNode, OnnxTensor } from "./model/onnx-schema.js";
export { readFloat32, readIntegers, tensorDims, valueInfoDims } from "./model/tensor-data.js";
export {
  type PresetOptions,
  type PresetReport,
  quantizePreset,
  TRANSFORMERS_JS_PRESET_NAMES,
  TRANSFORMERS_JS_PRESETS,
  type TransformersJsPreset,
  type TransformersJsPresetName,
} from "./presets/transformers-js-presets.js";
export { QUANTIZABLE_OP_TYPES } from "./quantize/op-registry.js";
export { ensureOpset } from "./quantize/opset.js";
export type { CommonQuantizeOptions } from "./quantize/options.js";
export {
  type Bnb4Options,
  FP4_LEVELS,
  NF4_LEVELS,
  nearestFp4,
  nearestNf4,
  quantizeBnb4,
} from "./quantize/quantize-bnb4.js";
export { DYNAMIC_OPS, type DynamicQuantizeOptions, quantizeDynamic } from "./quantize/quantize-dynamic.js";
export {
  type MixedCandidateOptions,
  type MixedOptions,
  type MixedReport,
  mixedPrecisionCandidates,
  quantizeMixed,
} from "./quantize/quantize-mixed.js";
export { type QuantizeReport, quantizeStatic, type StaticQuantizeOptions } from "./quantize/quantize-static.js";
export { quantizeWeightOnly, type WeightOnlyOptions } from "./quantize/quantize-weight-only.js";
export { type ActivationParams, decideRoles, type PlannedNode, type RoleDecision } from "./quantize/static-plan.js";
export { type OnnxruntimeMatrixMultiply, onnxruntimeMatrixMultiply } from "./runtime/onnxruntime-matmul.js";
export {
  type CpuTarget,
  decideKernel,
  describeCpuTarget,
  probeU8S8Saturation,
  readCpuFeatures,
  resolveCpuTarget,
} from "./target/cpu-target.js";
export { applyTargetCpu, type TargetDecision } from "./target/saturation-policy.js";
export {
  FORMAT_CANDIDATES,
  type FormatCandidateId,
  type FormatCandidateResult,
  type FormatSearchOptions,
  type FormatSearchResult,
  searchFormats,
} from "./tune/format-search.js";
export { type MeasuredSpeedup, type MeasureSpeedupOptions, measureSpeedups } from "./tune/measure-latency.js";
export {
  createOnnxTuningAdapter,
  type EvaluationData,
  type LatencyProfileOptions,
  measureLatencyProfile,
  measurePlanLatency,
  modelDigest,
  type OnnxTuningAdapter,
  type OnnxTuningOptions,
} from "./tune/onnx-tuning.js";
