/**
 * @packageDocumentation
 * `@zeropoint/torch`: a PyTorch-style workflow in TypeScript. Float32 tensors with reverse-mode
 * autograd, nn modules and optimizers, and real PyTorch weights from `.safetensors`.
 */

export { torchAdapterRegistration } from "./adapter/registration.js";
export { createTorchAdapter } from "./adapter/torch-adapter.js";
export { adaptiveAvgPool2d, avgPool2d, conv2d, maxPool2d, type PoolOptions } from "./autograd/conv.js";
export { crossEntropy, mseLoss } from "./autograd/loss.js";
export { type BatchNormState, batchNorm2d } from "./autograd/norm.js";
export {
  add,
  broadcastShape,
  cat,
  dropout,
  flatten,
  linear,
  matmul,
  mean,
  mul,
  relu,
  relu6,
  reshape,
  scale,
  sub,
  sum,
} from "./autograd/ops.js";
export { type GradNode, isGradEnabled, noGrad, Tensor } from "./autograd/tensor.js";
export { registerTorchCapabilities, torchCapabilities } from "./capabilities.js";
export { type BackendConfig, x86BackendConfig } from "./fx/backend-config.js";
export { type Argument, type FxNode, Graph, type NodeOp } from "./fx/graph.js";
export { GraphModule } from "./fx/graph-module.js";
export { getDefaultQatQConfigMapping, getDefaultQConfigMapping, QConfigMapping } from "./fx/qconfig-mapping.js";
export { convertFx, ObserverModule, prepareFx, prepareQatFx } from "./fx/quantize-fx.js";
export { isLeafModule, symbolicTrace } from "./fx/symbolic-trace.js";
export { readSafetensors } from "./io/safetensors.js";
export { type IrModule, moduleFromIr } from "./ir/module-from-ir.js";
export {
  AdaptiveAvgPool2d,
  AvgPool2d,
  BatchNorm2d,
  Conv2d,
  Dropout,
  Flatten,
  Linear,
  MaxPool2d,
  ReLU,
  ReLU6,
  Sequential,
} from "./nn/layers.js";
export { type ForwardHook, Module, parameter, type StateTensor } from "./nn/module.js";
export { defaultRandom, manualSeed, Random } from "./nn/random.js";
export { referenceCnn } from "./nn/reference-cnn.js";
export { Adam, SGD } from "./optim/optimizers.js";
export { DynamicQuantizedLinear, type QuantizedEngine, quantizeDynamic } from "./quantization/dynamic.js";
export { convert, prepare, quantizedFromQat } from "./quantization/eager.js";
export { disableObserver, enableObserver, FakeQuantize } from "./quantization/fake-quantize.js";
export { BNReLU2d, ConvReLU2d, fuseConvBatchNorm, fuseModules, Identity, LinearReLU } from "./quantization/fuse.js";
export { ConvBn2d, fuseModulesQat, prepareQat } from "./quantization/qat.js";
export { freezeBnStats, QatConv2d, QatConvBn2d, QatLinear } from "./quantization/qat-modules.js";
export {
  getDefaultQatQConfig,
  getDefaultQConfig,
  type QConfig,
  type QConfigOptions,
} from "./quantization/qconfig.js";
export { QuantizedBatchNorm2d, QuantizedConv2d, QuantizedLinear } from "./quantization/quantized-modules.js";
export { QuantizedTensor } from "./quantization/quantized-tensor.js";
export { DeQuantize, DeQuantStub, Quantize, QuantStub, QuantWrapper } from "./quantization/stubs.js";
