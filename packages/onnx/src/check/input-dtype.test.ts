import { describe, expect, it } from "vitest";
import type { OnnxModel } from "../model/onnx-schema.js";
import { checkQuantizedModel } from "./model-check.js";

describe("the float-vs-quantized check on a model with a float16 input", () => {
  it("is a typed error saying onnxruntime could not run it (it was an untyped onnxruntime error)", async () => {
    const model = {
      irVersion: 8,
      opsetImport: [{ domain: "", version: 13 }],
      graph: {
        name: "g",
        node: [
          { name: "cast", opType: "Cast", input: ["x"], output: ["y"], attribute: [{ name: "to", type: 2, i: 1 }] },
        ],
        input: [
          { name: "x", type: { tensorType: { elemType: 10, shape: { dim: [{ dimValue: 1 }, { dimValue: 4 }] } } } },
        ],
        output: [{ name: "y" }],
        initializer: [],
        valueInfo: [],
      },
    } as unknown as OnnxModel;
    const samples = [{ x: { data: Float32Array.of(1, 2, 3, 4), dims: [1, 4] } }];
    await expect(checkQuantizedModel(model, model, samples, {})).rejects.toMatchObject({
      code: "invalid-calibration-data",
      message: expect.stringContaining("onnxruntime could not run the float model"),
    });
  });
});
