import type { CalibrationBatch } from "../data/calibration-source.js";
import type { IrGraph, IrWeight } from "../ir/model-graph.js";

/** A small deterministic generator (LCG) so every adapter sees bit-identical weights and data. */
function uniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function weight(shape: number[], next: () => number, scale: number): IrWeight {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = (next() * 2 - 1) * scale;
  return { shape, data };
}

/**
 * The graph every adapter is checked on: conv 3×3 (1→4, pad 1) + ReLU, 2×2 max-pool, flatten and
 * a linear layer 36→5, on 1×6×6 inputs. Small enough to run in milliseconds in every framework,
 * and it holds the two quantized layer kinds and the ReLU fusion every backend performs.
 */
export function conformanceGraph(): IrGraph {
  const next = uniform(14);
  return {
    name: "conformance",
    inputs: [{ name: "input", shape: [null, 1, 6, 6] }],
    outputs: ["logits"],
    nodes: [
      {
        name: "conv",
        op: "conv2d",
        inputs: ["input"],
        output: "conv_out",
        attributes: { strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: 1 },
        weights: { weight: weight([4, 1, 3, 3], next, 0.5), bias: weight([4], next, 0.1) },
      },
      { name: "relu", op: "relu", inputs: ["conv_out"], output: "relu_out", attributes: {}, weights: {} },
      {
        name: "pool",
        op: "max-pool",
        inputs: ["relu_out"],
        output: "pool_out",
        attributes: { kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0] },
        weights: {},
      },
      { name: "flatten", op: "flatten", inputs: ["pool_out"], output: "flat", attributes: { axis: 1 }, weights: {} },
      {
        name: "fc",
        op: "linear",
        inputs: ["flat"],
        output: "logits",
        attributes: {},
        weights: { weight: weight([5, 36], next, 0.4), bias: weight([5], next, 0.1) },
      },
    ],
  };
}

/** `count` batches of `rows` samples for {@link conformanceGraph}, uniform in [0, 1). */
export function conformanceBatches(count: number, rows: number, seed: number): CalibrationBatch[] {
  const next = uniform(seed);
  return Array.from({ length: count }, () => {
    const data = new Float32Array(rows * 36);
    for (let i = 0; i < data.length; i++) data[i] = next();
    return { input: { dtype: "float32" as const, data, dims: [rows, 1, 6, 6] } };
  });
}
