/**
 * @packageDocumentation
 * `@zeropoint/core`: the framework-neutral quantization core shared by the zeropoint adapters.
 * Schemes and dtypes, quantization parameters under PyTorch / onnxruntime / TFLite conventions,
 * fake quantization, streaming observers and calibrators, int8 kernels, recipes and the support
 * matrix registry. No runtime dependencies.
 */

export { findVariant, irInputSpecs, singleFloat32Input } from "./adapter/adapter-inputs.js";
export {
  type AdapterRegistration,
  AdapterRegistry,
  adapterRegistry,
  type UnavailableAdapter,
} from "./adapter/adapter-registry.js";
export { batchRecord, checkBuild } from "./adapter/check-build.js";
export {
  ADAPTER_SPECIFICATION_VERSION,
  type AdapterModel,
  type BuildCheck,
  type EvaluationBatches,
  type LayerParams,
  type ModelBuild,
  type QuantizeData,
  type QuantizeRequest,
  type QuantizerAdapter,
  type QuantizeVariant,
} from "./adapter/quantizer-adapter.js";
export {
  asNamedTensor,
  type CalibrationBatch,
  type CalibrationSource,
  type CalibrationTensor,
  calibrationSourceFromBatches,
  iterateSource,
} from "./data/calibration-source.js";
export { fixedBatchSize, type ModelInputSpec, sampleDims } from "./data/input-spec.js";
export {
  allocateTensorData,
  castTensor,
  elementAsNumber,
  elementCount,
  FLOAT_DTYPES,
  float32Tensor,
  floatToHalf,
  halfToFloat,
  type NamedTensor,
  type TensorData,
  type TensorDataMap,
  type TensorDtype,
  type TensorRecord,
} from "./data/named-tensor.js";
export { parseNpyTensor } from "./data/npy.js";
export { type RandomSamplesOptions, randomSamples } from "./data/random-samples.js";
export { type BatchSamplesOptions, batchRows, batchSamples, stack } from "./data/sample-batcher.js";
export {
  allocateQuantArray,
  type DtypeInfo,
  dtypeInfo,
  isQuantDtype,
  QUANT_DTYPES,
  type QuantArray,
  type QuantArrayMap,
  type QuantDtype,
} from "./dtype/dtype.js";
export { ZeropointError, type ZeropointErrorCode } from "./errors/zeropoint-error.js";
export { onInterrupt, staleTempFiles, tempFileOwner } from "./io/interrupt-cleanup.js";
export { EVALUATED_IR_OPS, evaluateIr, type IrTensor } from "./ir/evaluate-ir.js";
export {
  IR_OPS,
  type IrAttribute,
  type IrAttributeMap,
  type IrConvAttributes,
  type IrGraph,
  type IrNoAttributes,
  type IrNode,
  type IrNodeOf,
  type IrOp,
  type IrPoolAttributes,
  type IrValue,
  type IrWeight,
  isChain,
  validateIrGraph,
} from "./ir/model-graph.js";
export { type QuantizedLayer, quantizedLayers } from "./ir/quantized-layers.js";
export { type BatchNormFoldArgs, foldBatchNorm } from "./kernels/batch-norm-fold.js";
export { channelMinMax } from "./kernels/channel-min-max.js";
export {
  type Conv2dFloat32Args,
  type Conv2dGeometry,
  type Conv2dInt8Args,
  conv2dFloat32,
  conv2dInt8,
  conv2dOutputShape,
} from "./kernels/conv2d.js";
export { dynamicQuantizeLinear } from "./kernels/dynamic-quantize-linear.js";
export {
  type FakeQuantizeOptions,
  type FakeQuantizeResult,
  fakeQuantize,
  fakeQuantizeBackward,
} from "./kernels/fake-quantize.js";
export {
  GEMM_BLOCK_K,
  GEMM_BLOCK_N,
  type GemmFloat32Args,
  type GemmInt8Args,
  gemmFloat32,
  gemmInt8,
  type Int8Like,
} from "./kernels/gemm.js";
export { shapeSize } from "./kernels/layout.js";
export { type QLinearConvArgs, type QTensor, qlinearConv, qlinearMatMul } from "./kernels/qlinear.js";
export {
  dequantize,
  dequantizeInto,
  packInt4,
  type QuantizeOptions,
  quantize,
  quantizeInto,
  unpackInt4,
} from "./kernels/quantize.js";
export { type QuantizedBias, quantizeBias } from "./kernels/quantize-bias.js";
export {
  multiplyByQuantizedMultiplier,
  type QuantizedMultiplier,
  quantizeMultiplier,
  type RequantizeTarget,
  requantizeFixedPoint,
  requantizeFloat,
  roundingDivideByPOT,
  saturatingRoundingDoublingHighMul,
} from "./kernels/requantize.js";
export { accuracy, agreement, maxAbsDifference, top1 } from "./metrics/classification.js";
export {
  OutputComparison,
  type OutputComparisonResult,
  type OutputKind,
} from "./metrics/output-comparison.js";
export {
  FLOAT32_EPS,
  FLOAT32_TINY,
  type RoundingMode,
  roundHalfAwayFromZero,
  roundHalfToEven,
  roundWith,
} from "./numerics/rounding.js";
export { sqnr } from "./numerics/sqnr.js";
export { createObserver, observerFromJSON } from "./observers/create-observer.js";
export { histogramQuantizationError } from "./observers/mse-observer.js";
export {
  defaultConvention,
  type FloatRange,
  OBSERVER_KINDS,
  type Observer,
  type ObserverKind,
  type ObserverOptions,
  type ObserverState,
} from "./observers/observer.js";
export { isPathInside } from "./paths/path-inside.js";
export { chooseQuantizationParams } from "./qparams/fbgemm-qparams.js";
export { type ComputeQParamsOptions, computeQParams, type QParams, representableRange } from "./qparams/qparams.js";
export {
  APPROACHES,
  type Approach,
  CALIBRATION_METHODS,
  type CalibrationMethod,
  type CalibrationSpec,
  defaultRecipe,
  type ExplicitQParams,
  parseRecipe,
  type QuantizationPlan,
  type Recipe,
  type RecipeOverride,
  type ResolvedSettings,
  recipeToJSON,
  resolveSettings,
} from "./recipe/recipe.js";
export {
  type Granularity,
  normalizeAxis,
  QUANT_CONVENTIONS,
  type QuantConvention,
  type QuantRange,
  type QuantScheme,
  resolveQuantRange,
} from "./scheme/scheme.js";
export {
  type Capability,
  type CapabilityEvidence,
  DATA_REQUIREMENT,
  type DataRequirement,
  getSupportMatrix,
  registerCapability,
  SupportMatrix,
  type SupportMatrixRow,
} from "./support-matrix/support-matrix.js";
export {
  type CpuFeatures,
  INT16_MAX,
  INTEGER_KERNELS,
  type IntegerKernel,
  type IntegerKernelInfo,
  integerKernelFromFeatures,
  kernelForTargetCpu,
  maxU8S8PairSum,
  NON_SATURATING_WEIGHT_RANGE,
  parseCpuinfo,
  parseTargetCpu,
  TARGET_CPUS,
  type TargetCpu,
} from "./target/integer-kernels.js";
export { type AccuracyCriterion, describeCriterion, metricThreshold, parseCriterion } from "./tuning/criterion.js";
export { additiveLatencyModel, type LatencyModel, type LatencyProfile, planKey } from "./tuning/latency-model.js";
export { type LatencyRatio, latencyRatio } from "./tuning/latency-ratio.js";
export {
  type HistoryEntry,
  type NodeSensitivity,
  type PlanEvaluation,
  type Trial,
  type TunableNode,
  type TuneOptions,
  type TuneResult,
  type TuningAdapter,
  type TuningHistory,
  tune,
} from "./tuning/tuner.js";
export { type AwqOptions, type AwqResult, awqSearch } from "./weight-quant/awq.js";
export {
  type ActivationRows,
  type BlockMethod,
  type BlockMethodOptions,
  type BlockResult,
  effectiveWeights,
  quantizeBlocks,
  relativeOutputError,
} from "./weight-quant/block-method.js";
export {
  type GptqOptions,
  gptqQuantize,
  gptqWithHessian,
  jsMatrixMultiply,
  type MatrixMultiply,
} from "./weight-quant/gptq.js";
export {
  dequantizeGroups,
  type GroupQuantized,
  type GroupQuantOptions,
  type HqqOptions,
  hqqGroupQuantize,
  rtnGroupQuantize,
} from "./weight-quant/group-quant.js";
export {
  chooseLayerBits,
  type LayerCandidates,
  type LayerChoice,
  type LayerDecision,
  type UpgradeStep,
  upgradeOrder,
} from "./weight-quant/mixed-precision.js";
