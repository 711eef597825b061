import { type Capability, getSupportMatrix } from "@zeropoint/core";

/**
 * What @zeropoint/torch can do, each entry naming the test (file > suite > title) whose passing run
 * proves it and the metric that test asserts.
 */
export const torchCapabilities: readonly Capability[] = [
  {
    id: "torch/static/eager",
    example: "apps/examples/src/torch-eager-ptq.ts",
    framework: "torch",
    approach: "static",
    format: "eager",
    opTypes: ["Conv2d", "ConvReLU2d", "Linear", "LinearReLU", "MaxPool2d", "ReLU", "Flatten"],
    schemes: ["quint8 activations (x86: 0..127 observed)", "qint8 per-channel symmetric weights", "float bias"],
    verifiedBy: {
      test: "packages/torch/src/quantization/eager.test.ts > eager post-training static quantization reproduces PyTorch's (x86 engine) > output integers on the 128 reference images equal PyTorch's",
      metric: "every int8 weight and all 1280 output integers equal PyTorch 2.11's on the shared CNN",
    },
  },
  {
    id: "torch/static/fx",
    example: "apps/examples/src/torch-fx-ptq.ts",
    framework: "torch",
    approach: "static",
    format: "FX",
    opTypes: ["Conv2d", "ConvReLU2d", "Linear", "LinearReLU", "BatchNorm2d", "BNReLU2d", "MaxPool2d (shared observer)"],
    schemes: ["quint8 activations (x86: 0..127 observed)", "qint8 per-channel symmetric weights", "float bias"],
    verifiedBy: {
      test: "packages/torch/src/fx/quantize-fx.test.ts > FX post-training static quantization reproduces PyTorch's (x86 engine) > the converted graph has PyTorch's node sequence",
      metric:
        "PyTorch's converted node sequence; logits requantized on l2's uint8 grid, within one step of PyTorch's on all 1,280 (>= 80% equal)",
    },
  },
  {
    id: "torch/dynamic/eager",
    example: "apps/examples/src/torch-dynamic.ts",
    framework: "torch",
    approach: "dynamic",
    format: "eager",
    opTypes: ["Linear"],
    schemes: ["qint8 per-tensor symmetric weights", "quint8 activations quantized per call"],
    verifiedBy: {
      test: "packages/torch/src/quantization/dynamic.test.ts > quantizeDynamic reproduces PyTorch's dynamic quantization of the shared CNN > logits: same top-1 on all 128 images, within 1e-3 of the logit range",
      metric: "same top-1 as PyTorch on 128 images, logits within 1e-3 of the range",
    },
  },
  {
    id: "torch/qat/eager",
    example: "apps/examples/src/torch-eager-qat.ts",
    framework: "torch",
    approach: "qat",
    format: "eager",
    emulated: true,
    opTypes: ["Conv2d", "ConvBn2d", "ConvBnReLU2d", "ConvReLU2d", "Linear", "LinearReLU"],
    schemes: ["fake-quantized quint8 activations", "qint8 or narrower (e.g. 2-bit) per-channel symmetric weights"],
    verifiedBy: {
      test: "packages/torch/src/quantization/qat-accuracy.slow.test.ts > eager QAT of the shared CNN > 2-bit per-channel weights (−2..1): recovers at least half of the PTQ accuracy gap",
      metric: "one epoch recovers >= 50% of the 2-bit PTQ gap; 8-bit QAT >= PTQ - 0.2 points",
    },
  },
  {
    id: "torch/qat/fx",
    example: "apps/examples/src/torch-fx-qat.ts",
    framework: "torch",
    approach: "qat",
    format: "FX",
    emulated: true,
    opTypes: ["Conv2d", "ConvBn2d", "ConvBnReLU2d", "ConvReLU2d", "Linear", "LinearReLU"],
    schemes: ["fake-quantized quint8 activations", "qint8 per-channel symmetric weights"],
    verifiedBy: {
      test: "packages/torch/src/fx/qat-fx.test.ts > prepareQatFx > trains with fake quantization and converts to int8 modules that agree with the fake-quantized model",
      metric: "converted int8 model has the fake-quantized model's top-1 on >= 63 of 64 images",
    },
  },
];

/** Registers the torch adapter's capabilities in core's process-wide support matrix. */
export function registerTorchCapabilities(): void {
  for (const c of torchCapabilities) getSupportMatrix().register(c);
}
