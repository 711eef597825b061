import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { ZeropointError } from "@zeropoint/core";
import { parseLayerGraph } from "../graph/layer-graph.js";

/**
 * Loads LayersModel artifacts with stock `tf.loadLayersModel`, after checking that every layer
 * class is one tfjs knows (its own layers, or custom classes registered with
 * `tf.serialization.registerClass`, such as zeropoint's fake-quant layers). tfjs would otherwise
 * fail with a bare "Unknown layer"; this names the layer and the file.
 *
 * @throws ZeropointError `unsupported-op` naming the first layer with an unknown class;
 *   `invalid-model` when tfjs refuses the weights (missing, permuted shape, wrong dtype).
 */
export async function loadLayersModelChecked(
  artifacts: tf.io.ModelArtifacts,
  where = "model.json",
): Promise<tfl.LayersModel> {
  const graph = parseLayerGraph(artifacts.modelTopology, where);
  const known = tf.serialization.SerializationMap.getMap().classNameMap;
  for (const node of graph.nodes) {
    if (node.className !== "InputLayer" && !(node.className in known)) {
      throw new ZeropointError(
        "unsupported-op",
        `${where}: layer ${node.name} has unknown class ${node.className} (not registered with tfjs)`,
        {
          details: { file: where, layer: node.name, className: node.className },
        },
      );
    }
  }
  for (const w of artifacts.weightSpecs ?? []) {
    // Every LayersModel variable is float32 (a quantized manifest says so in `quantization`); an
    // int32 kernel of the same byte length would otherwise load its bits as numbers.
    if (w.dtype !== "float32") {
      throw new ZeropointError(
        "invalid-model",
        `${where}: weight ${w.name} is ${w.dtype}, a LayersModel stores float32`,
        {
          details: { file: where, weight: w.name },
        },
      );
    }
  }
  try {
    return await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (cause) {
    // tfjs checks each weight against its variable (missing weight, permuted or wrong shape, dtype)
    // with plain Errors; the message names the weight, and this adds the file and a code.
    throw new ZeropointError("invalid-model", `${where}: tfjs cannot build the model: ${(cause as Error).message}`, {
      cause,
      details: { file: where },
    });
  }
}
