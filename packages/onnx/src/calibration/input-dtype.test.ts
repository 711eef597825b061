import { describe, expect, it } from "vitest";
import type { OnnxModel } from "../model/onnx-schema.js";
import { calibrate } from "./calibrate.js";

describe("calibration of a model whose input is not float32", () => {
  it("is a typed invalid-dtype error naming the input (not onnxruntime's untyped one)", async () => {
    const model = {
      irVersion: 8,
      opsetImport: [{ domain: "", version: 13 }],
      graph: {
        name: "g",
        node: [
          { name: "cast", opType: "Cast", input: ["ids"], output: ["y"], attribute: [{ name: "to", type: 2, i: 1 }] },
        ],
        input: [
          { name: "ids", type: { tensorType: { elemType: 7, shape: { dim: [{ dimValue: 1 }, { dimValue: 4 }] } } } },
        ],
        output: [{ name: "y" }],
        initializer: [],
        valueInfo: [],
      },
    } as unknown as OnnxModel;
    const batches = [{ ids: { data: Float32Array.of(1, 2, 3, 4), dims: [1, 4] } }];
    await expect(calibrate(model, ["y"], () => batches, { method: "minmax" })).rejects.toMatchObject({
      code: "invalid-dtype",
      message: expect.stringContaining("input ids is int64"),
    });
  });
});
