import type { AdapterRegistration } from "@zeropoint/core";

/**
 * How an application registers the ONNX adapter without loading it: this module imports nothing
 * heavy (`canLoad` reads the file name), and `create` imports the adapter, protobufjs and, on first
 * run, onnxruntime-node only when an ONNX model is actually used.
 */
export const onnxAdapterRegistration: AdapterRegistration = {
  framework: "onnx",
  priority: 100,
  canLoad: (source) => source.endsWith(".onnx"),
  create: async () => (await import("./onnx-adapter.js")).createOnnxAdapter(),
};
