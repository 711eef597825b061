import { describe, expect, it } from "vitest";
import type { OnnxModel } from "../model/onnx-schema.js";
import { calibrate } from "./calibrate.js";

/** ids (int64 [1, 4]) -> Cast to float -> y. */
function int64Model(): OnnxModel {
  return {
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
}

describe("calibration of a model whose input is int64", () => {
  it("feeds int64 data as int64 and observes what the model computes from it", async () => {
    const batches = [{ ids: { dtype: "int64" as const, data: BigInt64Array.of(1n, 2n, 3n, 40n), dims: [1, 4] } }];
    const result = await calibrate(int64Model(), ["y"], () => batches, { method: "minmax" });
    expect(result.observers.get("y")?.range()).toMatchObject({ min: Float32Array.of(1), max: Float32Array.of(40) });
  });

  it("converts integral float32 data (NumPy's default) and refuses fractional values naming the input", async () => {
    const ok = [{ ids: { data: Float32Array.of(1, 2, 3, 4), dims: [1, 4] } }];
    const result = await calibrate(int64Model(), ["y"], () => ok, { method: "minmax" });
    expect(result.observers.get("y")?.range()).toMatchObject({ min: Float32Array.of(1), max: Float32Array.of(4) });
    const bad = [{ ids: { data: Float32Array.of(1, 2.5, 3, 4), dims: [1, 4] } }];
    await expect(calibrate(int64Model(), ["y"], () => bad, { method: "minmax" })).rejects.toMatchObject({
      code: "invalid-dtype",
      message: expect.stringMatching(/input ids: element 1 is 2.5, not an integer, but the model takes int64/),
    });
  });
});

describe("an onnxruntime failure while calibrating", () => {
  it("is a typed error naming the batch and its input shapes", async () => {
    // Reshape to [3, -1] fails on 4 elements inside onnxruntime, past every check zeropoint makes.
    const model = {
      irVersion: 8,
      opsetImport: [{ domain: "", version: 13 }],
      graph: {
        name: "g",
        node: [{ name: "reshape", opType: "Reshape", input: ["x", "shape"], output: ["y"], attribute: [] }],
        input: [
          { name: "x", type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: "n" }, { dimValue: 4 }] } } } },
        ],
        output: [{ name: "y" }],
        initializer: [{ name: "shape", dims: [2], dataType: 7, int64Data: [3, -1] }],
        valueInfo: [],
      },
    } as unknown as OnnxModel;
    const batches = [{ x: { data: Float32Array.of(1, 2, 3, 4), dims: [1, 4] } }];
    await expect(calibrate(model, ["y"], () => batches, { method: "minmax" })).rejects.toMatchObject({
      code: "invalid-calibration-data",
      message: expect.stringMatching(/onnxruntime could not run the model on calibration batch 0 \(x \[1, 4\]\)/),
    });
  });
});
