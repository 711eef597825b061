import type * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { prepareGraph } from "../src/static/quantize-static.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");
const ints = (values: number[]) => ({ list: { i: values.map(String) } });
const float = { type: "DT_FLOAT" };

/**
 * Writes the bundled CNN as a tfjs GraphModel by hand (tfjs-converter is Python-only): BatchNorm
 * folded into the convolutions, then Conv2D + BiasAdd + Relu, MaxPool, Reshape, MatMul + BiasAdd
 * (+ Relu), with the weights in one manifest group as tfjs-converter lays them out.
 */
export function cnnGraphModelArtifacts(model: tfl.LayersModel): tf.io.ModelArtifacts {
  const { graph, weights } = prepareGraph(model);
  const nodes: Record<string, unknown>[] = [];
  const specs: tf.io.WeightsManifestEntry[] = [];
  const data: Uint8Array[] = [];
  const constant = (name: string, values: Float32Array | Int32Array, shape: readonly number[]) => {
    const dtype = values instanceof Int32Array ? "int32" : "float32";
    nodes.push({
      name,
      op: "Const",
      attr: {
        dtype: { type: dtype === "int32" ? "DT_INT32" : "DT_FLOAT" },
        value: {
          tensor: {
            dtype: dtype === "int32" ? "DT_INT32" : "DT_FLOAT",
            tensorShape: { dim: shape.map((d) => ({ size: String(d) })) },
          },
        },
      },
    });
    specs.push({ name, shape: [...shape], dtype });
    data.push(new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)));
  };
  let last = "input";
  nodes.push({
    name: "input",
    op: "Placeholder",
    attr: { dtype: float, shape: { shape: { dim: [-1, 28, 28, 1].map((d) => ({ size: String(d) })) } } },
  });
  for (const node of graph.nodes) {
    const c = node.config;
    if (node.className === "InputLayer") continue;
    if (node.className === "Conv2D" || node.className === "Dense") {
      const [kernel, bias] = weights.get(node.name) ?? [];
      if (kernel === undefined || bias === undefined) throw new Error(`${node.name} needs kernel and bias`);
      constant(`${node.name}/kernel`, kernel.values, kernel.shape);
      constant(`${node.name}/bias`, bias.values, bias.shape);
      if (node.className === "Conv2D") {
        nodes.push({
          name: `${node.name}/Conv2D`,
          op: "Conv2D",
          input: [last, `${node.name}/kernel`],
          attr: {
            T: float,
            strides: ints([1, 1, 1, 1]),
            dilations: ints([1, 1, 1, 1]),
            padding: { s: b64(String(c.padding).toUpperCase()) },
            data_format: { s: b64("NHWC") },
          },
        });
        last = `${node.name}/Conv2D`;
      } else {
        nodes.push({
          name: `${node.name}/MatMul`,
          op: "MatMul",
          input: [last, `${node.name}/kernel`],
          attr: { T: float, transpose_a: { b: false }, transpose_b: { b: false } },
        });
        last = `${node.name}/MatMul`;
      }
      nodes.push({
        name: `${node.name}/BiasAdd`,
        op: "BiasAdd",
        input: [last, `${node.name}/bias`],
        attr: { T: float, data_format: { s: b64("NHWC") } },
      });
      last = `${node.name}/BiasAdd`;
      if (c.activation === "relu") {
        nodes.push({ name: `${node.name}/Relu`, op: "Relu", input: [last], attr: { T: float } });
        last = `${node.name}/Relu`;
      }
    } else if (node.className === "MaxPooling2D") {
      nodes.push({
        name: node.name,
        op: "MaxPool",
        input: [last],
        attr: {
          T: float,
          ksize: ints([1, 2, 2, 1]),
          strides: ints([1, 2, 2, 1]),
          padding: { s: b64("VALID") },
          data_format: { s: b64("NHWC") },
        },
      });
      last = node.name;
    } else if (node.className === "Flatten") {
      constant(`${node.name}/shape`, Int32Array.of(-1, 1568), [2]);
      nodes.push({
        name: node.name,
        op: "Reshape",
        input: [last, `${node.name}/shape`],
        attr: { T: float, Tshape: { type: "DT_INT32" } },
      });
      last = node.name;
    } else {
      throw new Error(`graph-model fixture: no mapping for ${node.className}`);
    }
  }
  nodes.push({ name: "logits", op: "Identity", input: [last], attr: { T: float } });
  const total = data.reduce((a, d) => a + d.byteLength, 0);
  const weightData = new Uint8Array(total);
  let at = 0;
  for (const d of data) {
    weightData.set(d, at);
    at += d.byteLength;
  }
  return {
    format: "graph-model",
    generatedBy: "zeropoint test fixture",
    convertedBy: "hand-written (tfjs-converter is Python-only)",
    modelTopology: { node: nodes, library: {}, versions: { producer: 1482 } },
    weightSpecs: specs,
    weightData: weightData.buffer,
  };
}
