import { type Capability, getSupportMatrix } from "@zeropoint/core";
import {
  COMPUTE_OPS,
  DYNAMIC_OPS,
  ONNX_OPS,
  QOPERATOR_OPS,
  QUANTIZABLE_OP_TYPES,
  REMOVABLE_OPS,
  SHARE_OPS,
} from "./quantize/op-registry.js";

const int4Ops = Object.entries(ONNX_OPS)
  .filter(([, e]) => e.int4 === "MatMulNBits")
  .map(([op]) => op);

const STATIC_TEST = "packages/onnx/src/quantize/quantize-static.test.ts";
const ACCURACY =
  "test-split accuracy >= onnxruntime's own quantizer - 0.3 points on cnn, mlp, transformer; integer ops in onnxruntime's optimized graph";

/**
 * What @zeropoint/onnx can do, each entry naming the test (file > suite > title) whose passing run
 * proves it and the metric that test asserts.
 */
export const onnxCapabilities: readonly Capability[] = [
  {
    id: "onnx/static/qdq",
    example: "apps/examples/src/onnx-static-qdq.ts",
    framework: "onnx",
    approach: "static",
    format: "QDQ",
    opTypes: [...COMPUTE_OPS, ...SHARE_OPS, ...REMOVABLE_OPS],
    schemes: ["int8/uint8 weights per-tensor or per-channel", "uint8/int8/uint16/int16 activations", "int32 bias"],
    verifiedBy: {
      test: `${STATIC_TEST} > static quantization of %s_fp32.onnx (256 MNIST calibration images) > qdq per-channel: accuracy, size and integer compute`,
      metric: ACCURACY,
    },
  },
  {
    id: "onnx/static/qoperator",
    example: "apps/examples/src/onnx-static-qoperator.ts",
    framework: "onnx",
    approach: "static",
    format: "QOperator",
    opTypes: [...QOPERATOR_OPS],
    schemes: ["int8 weights per-tensor or per-channel", "uint8/int8 activations", "int32 bias"],
    verifiedBy: {
      test: `${STATIC_TEST} > static quantization of %s_fp32.onnx (256 MNIST calibration images) > qoperator per-tensor: accuracy, size and integer compute`,
      metric: ACCURACY,
    },
  },
  {
    id: "onnx/dynamic/integer-ops",
    example: "apps/examples/src/onnx-dynamic.ts",
    framework: "onnx",
    approach: "dynamic",
    format: "IntegerOps",
    opTypes: [...DYNAMIC_OPS],
    schemes: ["int8/uint8 weights per-tensor or per-channel", "uint8 activations quantized at run time"],
    verifiedBy: {
      test: "packages/onnx/src/quantize/quantize-dynamic.test.ts > dynamic quantization of %s_fp32.onnx > accuracy, size and integer compute",
      metric: "test-split accuracy >= onnxruntime's dynamic quantizer - 0.3 points; integer ops in the optimized graph",
    },
  },
  {
    id: "onnx/weight-only/int8",
    example: "apps/examples/src/onnx-weight-only-int8.ts",
    framework: "onnx",
    approach: "weight-only",
    format: "int8 DequantizeLinear",
    opTypes: [...QUANTIZABLE_OP_TYPES["weight-only"]],
    schemes: ["int8 symmetric per-channel weights, float activations"],
    verifiedBy: {
      test: "packages/onnx/src/quantize/quantize-weight-only.test.ts > weight-only quantization of %s_fp32.onnx > int8 per-channel: within 0.5 points of float, <= 0.30x",
      metric: "test-split accuracy within 0.5 points of float",
    },
  },
  {
    id: "onnx/weight-only/int4",
    example: "apps/examples/src/onnx-weight-only-int4.ts",
    framework: "onnx",
    approach: "weight-only",
    format: "int4 MatMulNBits",
    opTypes: int4Ops,
    schemes: [
      "int4 block-wise weights (block 16-256), asymmetric with per-block zero points by default or symmetric; output projection int8",
      "float activations",
    ],
    verifiedBy: {
      test: "packages/onnx/src/quantize/quantize-weight-only.test.ts > weight-only quantization of %s_fp32.onnx > int4 block 32 (MatMulNBits): loads, runs, and is small",
      metric: "loads and runs in onnxruntime-node; accuracy within 5 points of float",
    },
  },
];

/** Registers the ONNX adapter's capabilities in core's process-wide support matrix. */
export function registerOnnxCapabilities(): void {
  for (const c of onnxCapabilities) getSupportMatrix().register(c);
}
