import { floatToHalf } from "@zeropoint/core";
import { describe, expect, it } from "vitest";
import type { OnnxModel } from "../model/onnx-schema.js";
import { checkQuantizedModel } from "./model-check.js";

describe("the float-vs-quantized check on a model with a float16 input", () => {
  const model = {
    irVersion: 8,
    opsetImport: [{ domain: "", version: 13 }],
    graph: {
      name: "g",
      node: [{ name: "cast", opType: "Cast", input: ["x"], output: ["y"], attribute: [{ name: "to", type: 2, i: 1 }] }],
      input: [
        { name: "x", type: { tensorType: { elemType: 10, shape: { dim: [{ dimValue: 1 }, { dimValue: 4 }] } } } },
      ],
      output: [{ name: "y" }],
      initializer: [],
      valueInfo: [],
    },
  } as unknown as OnnxModel;

  it("feeds float16 samples as float16", async () => {
    const half = Uint16Array.from([1, 2, 3, 4], floatToHalf);
    const check = await checkQuantizedModel(model, model, [{ x: { dtype: "float16", data: half, dims: [1, 4] } }], {});
    expect(check.outputs[0]).toMatchObject({ name: "y", sqnr: Number.POSITIVE_INFINITY, cosine: 1 });
  });

  it("float32 data for a float16 input is a typed error naming the input", async () => {
    const samples = [{ x: { data: Float32Array.of(1, 2, 3, 4), dims: [1, 4] } }];
    await expect(checkQuantizedModel(model, model, samples, {})).rejects.toMatchObject({
      code: "invalid-dtype",
      message: expect.stringContaining("check batch 0, input x is float32 but the model takes float16"),
    });
  });
});
