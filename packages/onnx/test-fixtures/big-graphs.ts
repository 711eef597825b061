import type { OnnxModel } from "../src/model/onnx-schema.js";
import { makeTensor } from "../src/model/tensor-data.js";

/**
 * Synthetic graphs for scaling tests: `chain` is n Adds of a constant in a row; `residual` pairs a
 * Mul by −0.5 with an Add of the skip connection (t ← t + (−0.5·t)), so values stay finite.
 */
export function bigGraph(n: number, kind: "chain" | "residual"): OnnxModel {
  const nodes = [];
  for (let i = 0; i < n; i++) {
    const input = i === 0 ? "x" : `t${i - 1}`;
    const out = i === n - 1 ? "y" : `t${i}`;
    if (kind === "residual" && i % 2 === 0)
      nodes.push({ name: `mul${i}`, opType: "Mul", input: [input, "h"], output: [out], attribute: [] });
    else if (kind === "residual")
      nodes.push({
        name: `add${i}`,
        opType: "Add",
        input: [i >= 2 ? `t${i - 2}` : "x", input],
        output: [out],
        attribute: [],
      });
    else nodes.push({ name: `add${i}`, opType: "Add", input: [input, "c"], output: [out], attribute: [] });
  }
  const info = (name: string) => ({
    name,
    type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }, { dimValue: 4 }] } } },
  });
  return {
    irVersion: 8,
    opsetImport: [{ domain: "", version: 13 }],
    graph: {
      name: kind,
      node: nodes,
      input: [info("x")],
      output: [info("y")],
      initializer: [
        makeTensor("c", [4], Float32Array.of(1e-4, 2e-4, 3e-4, 4e-4)),
        makeTensor("h", [4], Float32Array.of(-0.5, -0.5, -0.5, -0.5)),
      ],
      valueInfo: [],
    },
  } as unknown as OnnxModel;
}

/** One calibration batch for {@link bigGraph}. */
export const bigGraphBatches = [{ x: { data: Float32Array.of(0.1, 0.2, 0.3, 0.4), dims: [1, 4] } }];
