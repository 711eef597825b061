import { forEachGraph } from "../graph/subgraphs.js";
import { runtimeInputs } from "./input-specs.js";
import { DataType, type OnnxAttribute, type OnnxGraph, type OnnxModel, type OnnxTensor } from "./onnx-schema.js";
import { makeTensor, readFloat32 } from "./tensor-data.js";

/** Whether the model computes in float16 (float16 inputs, or mostly float16 weights). */
export function isFloat16Model(model: OnnxModel): boolean {
  const graph = model.graph;
  if (!graph) return false;
  const halfInputs = runtimeInputs(model).some((v) => v.type?.tensorType?.elemType === DataType.FLOAT16);
  const halfWeights = graph.initializer.filter((t) => t.dataType === DataType.FLOAT16).length;
  const floatWeights = graph.initializer.filter((t) => t.dataType === DataType.FLOAT).length;
  return halfInputs || (halfWeights > 0 && halfWeights >= floatWeights);
}

function toFloat(t: OnnxTensor): OnnxTensor {
  return t.dataType === DataType.FLOAT16 ? makeTensor(t.name ?? "", (t.dims ?? []).map(Number), readFloat32(t)) : t;
}

/**
 * A float16 model rewritten to compute in float32 with its float16 interface kept: weights and
 * constants widened (exactly: every half is a float32), Casts to float16 made Casts to float32,
 * a Cast to float32 after each float16 input and a Cast back to float16 before each float16
 * output. Static and dynamic quantization need float32 activations (onnxruntime's
 * QuantizeLinear before opset 19 and its integer kernels take float32); on this graph they
 * quantize as usual, and the result still takes and returns float16. The model is changed in place.
 */
export function widenFloat16Compute(model: OnnxModel): OnnxModel {
  const graph = model.graph as OnnxGraph;
  forEachGraph(graph, (g) => {
    g.initializer = g.initializer.map(toFloat);
    for (const v of g.valueInfo ?? []) {
      const tt = v.type?.tensorType;
      if (tt && tt.elemType === DataType.FLOAT16) tt.elemType = DataType.FLOAT;
    }
    for (const n of g.node) {
      for (const a of n.attribute as OnnxAttribute[]) {
        if (a.t) a.t = toFloat(a.t);
        if (n.opType === "Cast" && a.name === "to" && Number(a.i) === DataType.FLOAT16) a.i = DataType.FLOAT;
      }
    }
    if (g !== graph) {
      for (const v of [...g.input, ...g.output]) {
        const tt = v.type?.tensorType;
        if (tt && tt.elemType === DataType.FLOAT16) tt.elemType = DataType.FLOAT;
      }
    }
  });
  const rename = new Map<string, string>();
  const inputCasts = runtimeInputs(model)
    .filter((v) => v.type?.tensorType?.elemType === DataType.FLOAT16)
    .map((v) => {
      const name = v.name ?? "";
      rename.set(name, `${name}_float32`);
      return {
        name: `${name}_Cast_float32`,
        opType: "Cast",
        input: [name],
        output: [`${name}_float32`],
        attribute: [{ name: "to", type: 2, i: DataType.FLOAT }],
      };
    });
  // Every reader of a float16 input, in any graph, reads its float32 copy instead.
  forEachGraph(graph, (g) => {
    for (const n of g.node) n.input = n.input.map((i) => rename.get(i) ?? i);
  });
  const outputCasts = graph.output
    .filter((v) => v.type?.tensorType?.elemType === DataType.FLOAT16)
    .map((v) => {
      const name = v.name ?? "";
      const inner = `${name}_float32`;
      forEachGraph(graph, (g) => {
        for (const n of g.node) {
          n.output = n.output.map((o) => (o === name ? inner : o));
          n.input = n.input.map((i) => (i === name ? inner : i));
        }
      });
      return {
        name: `${name}_Cast_float16`,
        opType: "Cast",
        input: [inner],
        output: [name],
        attribute: [{ name: "to", type: 2, i: DataType.FLOAT16 }],
      };
    });
  graph.node = [...(inputCasts as never[]), ...graph.node, ...(outputCasts as never[])];
  return model;
}
