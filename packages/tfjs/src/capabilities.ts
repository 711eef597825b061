import { type Capability, getSupportMatrix } from "@zeropoint/core";

/**
 * What @zeropoint/tfjs can do, each entry naming the test (file > suite > title) whose passing run
 * proves it and the metric that test asserts. Static PTQ and QAT are emulated: tfjs has no integer
 * kernels, so computation stays float32 with fake quantization (the integer executor checks what an
 * int8 runtime would compute). Weight-only storage is dequantized at load.
 */
export const tfjsCapabilities: readonly Capability[] = [
  {
    id: "tfjs/static/emulated-int8",
    example: "apps/examples/src/tfjs-static.ts",
    framework: "tfjs",
    approach: "static",
    format: "LayersModel fake-quant",
    emulated: true,
    opTypes: [
      "Conv2D",
      "DepthwiseConv2D",
      "Dense",
      "BatchNormalization (folded)",
      "ReLU",
      "MaxPooling2D",
      "Flatten",
      "Add",
    ],
    schemes: [
      "int8 symmetric narrow-range weights, per-channel convolutions, per-tensor Dense (TFMOT)",
      "uint8 per-tensor asymmetric activations",
    ],
    verifiedBy: {
      test: "packages/tfjs/src/static/quantize-static.test.ts > static PTQ (emulated int8) of the bundled tfjs CNN, wasm backend > stays within 0.5 points of float accuracy",
      metric: "fake-quantized MNIST CNN accuracy within 0.5 points of float on the 2,004-image test split (wasm)",
    },
  },
  {
    id: "tfjs/static/integer-executor",
    example: "apps/examples/src/tfjs-static.ts",
    framework: "tfjs",
    approach: "static",
    format: "integer executor (parameter JSON)",
    opTypes: ["Conv2D", "DepthwiseConv2D", "Dense", "MaxPooling2D", "Flatten", "Reshape", "Add"],
    schemes: ["int8 weights, uint8 activations, int32 bias at sx·sw, float requantization"],
    verifiedBy: {
      test: "packages/tfjs/src/static/quantize-static.test.ts > static PTQ (emulated int8) of the bundled tfjs CNN, wasm backend > the integer executor gives the fake-quantized model's top-1 on every test image, activations within ±1 on >= 99.9%",
      metric:
        "same top-1 as the fake-quantized model on all 2,004 test images; uint8 activations within ±1 on >= 99.9%",
    },
  },
  {
    id: "tfjs/weight-only/storage",
    example: "apps/examples/src/tfjs-weight-only.ts",
    framework: "tfjs",
    approach: "weight-only",
    format: "storage (uint8/uint16/float16 manifest)",
    opTypes: ["any float32 weight (LayersModel and GraphModel)"],
    schemes: ["per-tensor affine uint8/uint16 with 0 exact (core observer range)", "float16"],
    verifiedBy: {
      test: "packages/tfjs/src/weight-only/quantize-weights.test.ts > weight-only artifacts of the bundled CNN load with stock tf.loadLayersModel (wasm) > uint8: within 0.3 points of float, <= 0.3x the float weight bytes",
      metric: "loads with stock tf.loadLayersModel; accuracy within 0.3 points of float at <= 0.3x the weight bytes",
    },
  },
  {
    id: "tfjs/qat/emulated-int8",
    example: "apps/examples/src/tfjs-qat.ts",
    framework: "tfjs",
    approach: "qat",
    format: "LayersModel fake-quant",
    emulated: true,
    opTypes: ["Conv2D", "DepthwiseConv2D", "Dense", "BatchNormalization (folded at conversion)", "ReLU"],
    schemes: [
      "fake-quantized uint8 activations (moving average 0.999)",
      "int8 or narrower per-channel symmetric weights",
    ],
    verifiedBy: {
      test: "packages/tfjs/src/qat/qat-accuracy.slow.test.ts > QAT of the bundled tfjs CNN (wasm) > low-bit weights: one epoch recovers at least half of the PTQ accuracy gap",
      metric: "one QAT epoch recovers >= 50% of the low-bit PTQ gap; 8-bit QAT >= PTQ - 0.2 points",
    },
  },
];

/** Registers the tfjs adapter's capabilities in core's process-wide support matrix. */
export function registerTfjsCapabilities(): void {
  for (const c of tfjsCapabilities) getSupportMatrix().register(c);
}
