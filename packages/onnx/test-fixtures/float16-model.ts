import { floatToHalf } from "@zeropoint/core";
import { loadModel } from "../src/model/model-io.js";
import type { OnnxModel } from "../src/model/onnx-schema.js";
import { makeTensor, readFloat32 } from "../src/model/tensor-data.js";
import { sharedModelBytes } from "./mnist-eval.js";

/**
 * A shared model converted to float16 end to end, as fp16 exports are: every float initializer
 * rounded to half (round to nearest even), float inputs and outputs declared float16, Cast targets
 * of float32 moved to float16.
 */
export function float16Model(name: "mlp" | "cnn" | "transformer"): OnnxModel {
  const { model } = loadModel(sharedModelBytes(name));
  const graph = model.graph as NonNullable<OnnxModel["graph"]>;
  graph.initializer = graph.initializer.map((t) =>
    t.dataType === 1
      ? makeTensor(t.name ?? "", (t.dims ?? []).map(Number), Uint16Array.from(readFloat32(t), floatToHalf), 10)
      : t,
  );
  for (const v of [...graph.input, ...graph.output]) {
    const tt = v.type?.tensorType;
    if (tt && tt.elemType === 1) tt.elemType = 10;
  }
  graph.valueInfo = [];
  for (const n of graph.node)
    for (const a of n.attribute) if (n.opType === "Cast" && a.name === "to" && Number(a.i) === 1) a.i = 10;
  return model;
}
