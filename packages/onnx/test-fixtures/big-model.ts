import { closeSync, openSync, writeSync } from "node:fs";
import { basename, join } from "node:path";
import { encodeModel } from "../src/model/model-io.js";
import { DataType, type OnnxModel, type OnnxTensor } from "../src/model/onnx-schema.js";

/** Deterministic uniform weights in [-a, a], a = sqrt(3 / width): each layer keeps the signal's scale. */
export function bigLayerWeights(layer: number, width: number, into: Float32Array): Float32Array {
  let s = (layer * 2654435761 + 12345) >>> 0;
  const a = Math.sqrt(3 / width);
  for (let i = 0; i < into.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    into[i] = ((s / 4294967296) * 2 - 1) * a;
  }
  return into;
}

/**
 * Writes `dir/model.onnx` + `model.onnx.data`: x [1, width] through `layers` MatMuls of [width,
 * width] float32 weights, all in the data file, generated one layer at a time (the file may be far
 * larger than memory). 36 layers of 4096 are 2.42 GB, past protobuf's 2 GiB.
 */
export function writeBigModel(dir: string, layers: number, width: number): { path: string; dataBytes: number } {
  const path = join(dir, "model.onnx");
  const dataName = `${basename(path)}.data`;
  const fd = openSync(join(dir, dataName), "w");
  const initializer: OnnxTensor[] = [];
  const node: NonNullable<OnnxModel["graph"]>["node"] = [];
  const weights = new Float32Array(width * width);
  const bytes = new Uint8Array(weights.buffer);
  let offset = 0;
  try {
    for (let l = 0; l < layers; l++) {
      bigLayerWeights(l, width, weights);
      let written = 0;
      while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written, offset + written);
      initializer.push({
        name: `w${l}`,
        dims: [width, width],
        dataType: DataType.FLOAT,
        rawData: new Uint8Array(0),
        dataLocation: 1,
        externalData: [
          { key: "location", value: dataName },
          { key: "offset", value: String(offset) },
          { key: "length", value: String(bytes.length) },
        ],
      } as OnnxTensor);
      node.push({
        name: `layer${l}`,
        opType: "MatMul",
        input: [l === 0 ? "x" : `h${l}`, `w${l}`],
        output: [l === layers - 1 ? "y" : `h${l + 1}`],
        attribute: [],
      } as never);
      offset += bytes.length;
    }
  } finally {
    closeSync(fd);
  }
  const value = (name: string) => ({
    name,
    type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [{ dimValue: 1 }, { dimValue: width }] } } },
  });
  const model = {
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }],
    graph: { name: "big", input: [value("x")], output: [value("y")], valueInfo: [], initializer, node },
  } as unknown as OnnxModel;
  const fdModel = openSync(path, "w");
  try {
    writeSync(fdModel, encodeModel(model));
  } finally {
    closeSync(fdModel);
  }
  return { path, dataBytes: offset };
}
