/**
 * @packageDocumentation
 * `@zeropoint/tfjs`: quantization for TensorFlow.js models. Weight-only storage that stock tfjs
 * loads, post-training static quantization emulated in float (TFMOT's int8 scheme) with an
 * integer executor that shows what an int8 runtime computes, and quantization-aware training
 * with `model.fit`. Runs on any registered tfjs backend; no tfjs-node needed.
 */

export { looksLikeTfjsModel, tfjsAdapterRegistration } from "./adapter/registration.js";
export { createTfjsAdapter } from "./adapter/tfjs-adapter.js";
export { selectBackend, TFJS_BACKENDS, type TfjsBackendName } from "./backends/select-backend.js";
export { registerWasmTrainingKernels } from "./backends/wasm-training-kernels.js";
export { registerTfjsCapabilities, tfjsCapabilities } from "./capabilities.js";
export { type CheckBatch, checkTfjsQuantized, type TfjsQuantizedCheck } from "./check/check-quantized.js";
export { activationQParams, FakeQuantLayer, type FakeQuantLayerArgs } from "./fake-quant/fake-quant-layer.js";
export { type FakeQuantOpOptions, fakeQuant } from "./fake-quant/fake-quant-op.js";
export { type LayerConfig, type LayerGraph, type LayerNode, parseLayerGraph } from "./graph/layer-graph.js";
export { inspectModel, type ModelInspection } from "./inspect/inspect-model.js";
export {
  IntegerExecutor,
  type IntegerRunResult,
  type IntegerTensor,
  type LayerWeights,
} from "./integer/integer-executor.js";
export {
  fileSystem,
  type ReadModelOptions,
  readModelArtifacts,
  storedByteLength,
  type WriteModelOptions,
  writeModelArtifacts,
} from "./io/file-system-io.js";
export { loadLayersModelChecked } from "./io/load-layers-model.js";
export { type IrLayersModel, layersModelFromIr } from "./ir/layers-model-from-ir.js";
export { convertQat, freezeObservers, prepareQat, type QatConfig } from "./qat/prepare-qat.js";
export { QuantKernelLayer, type QuantKernelLayerArgs } from "./qat/quant-kernel-layer.js";
export type { WeightStore, WeightValue } from "./static/fold-batch-norm.js";
export type { QuantizationParameters, QuantizedLayer, TensorQParams } from "./static/quantization-parameters.js";
export {
  type ActivationRanges,
  type CalibrationBatches,
  type QuantizedModel,
  quantizeStatic,
  type StaticQuantizeOptions,
} from "./static/quantize-static.js";
export { kernelQParams, type WeightQuantConfig, weightRange } from "./static/weight-scheme.js";
export {
  type QuantizeWeightsOptions,
  type QuantizeWeightsResult,
  quantizeWeights,
  type WeightRangeMethod,
  type WeightReport,
  type WeightStorageType,
} from "./weight-only/quantize-weights.js";
