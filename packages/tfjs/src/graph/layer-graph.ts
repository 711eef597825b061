import { ZeropointError } from "@zeropoint/core";

/** A Keras/tfjs layer config as it appears in model.json (snake_case keys). */
export type LayerConfig = Record<string, unknown>;

/** One layer of a {@link LayerGraph}: a single call of a layer on the outputs of `inbound` layers. */
export interface LayerNode {
  readonly name: string;
  readonly className: string;
  config: LayerConfig;
  /** Names of the layers whose (only) outputs this layer consumes, in argument order. */
  inbound: string[];
}

/**
 * A tfjs LayersModel topology as a plain DAG, Sequential and functional alike. Every layer must be
 * called once and produce one output (shared layers and multi-output layers are out of scope).
 */
export interface LayerGraph {
  readonly name: string;
  nodes: LayerNode[];
  inputs: string[];
  outputs: string[];
}

interface KerasLayerJson {
  class_name: string;
  config: LayerConfig;
  name?: string;
  inbound_nodes?: unknown[];
}

function layerName(layer: KerasLayerJson, where: string): string {
  const name = (layer.name ?? layer.config.name) as unknown;
  if (typeof name !== "string") throw new ZeropointError("invalid-model", `${where}: a layer has no name`);
  return name;
}

function inboundOf(layer: KerasLayerJson, where: string): string[] {
  const nodes = layer.inbound_nodes ?? [];
  if (nodes.length === 0) return [];
  if (nodes.length > 1) {
    throw new ZeropointError(
      "unsupported-op",
      `${where}: layer ${layerName(layer, where)} is called more than once (shared layers are not supported)`,
      {
        details: { layer: layerName(layer, where) },
      },
    );
  }
  const call = nodes[0];
  if (!Array.isArray(call))
    throw new ZeropointError("invalid-model", `${where}: bad inbound_nodes of ${layerName(layer, where)}`);
  return call.map((entry: unknown) => {
    if (!Array.isArray(entry) || typeof entry[0] !== "string") {
      throw new ZeropointError("invalid-model", `${where}: bad inbound_nodes of ${layerName(layer, where)}`);
    }
    if (entry[1] !== 0 || entry[2] !== 0) {
      throw new ZeropointError(
        "unsupported-op",
        `${where}: layer ${layerName(layer, where)} uses a shared or multi-output layer ${entry[0]}`,
      );
    }
    return entry[0];
  });
}

/**
 * Reads a LayersModel topology (`model.toJSON(null, false)` or model.json's `modelTopology`).
 * A Sequential model becomes a chain that starts at an explicit InputLayer.
 */
export function parseLayerGraph(topology: unknown, where = "model"): LayerGraph {
  const root = ((topology as { model_config?: unknown })?.model_config ?? topology) as {
    class_name?: string;
    config?:
      | { name?: string; layers?: KerasLayerJson[]; input_layers?: unknown[][]; output_layers?: unknown[][] }
      | KerasLayerJson[];
  };
  if (typeof root !== "object" || root === null || typeof root.class_name !== "string") {
    throw new ZeropointError("invalid-model", `${where}: modelTopology is not a LayersModel topology (no class_name)`);
  }
  const cfg = root.config;
  if (root.class_name === "Sequential") {
    const layers = Array.isArray(cfg) ? cfg : (cfg?.layers ?? []);
    const name = Array.isArray(cfg) ? "sequential" : (cfg?.name ?? "sequential");
    if (layers.length === 0) throw new ZeropointError("invalid-model", `${where}: Sequential model has no layers`);
    const nodes: LayerNode[] = [];
    let previous: string | undefined;
    const first = layers[0] as KerasLayerJson;
    if (first.class_name !== "InputLayer") {
      const shape = first.config.batch_input_shape;
      if (!Array.isArray(shape)) {
        throw new ZeropointError(
          "invalid-model",
          `${where}: the first layer of a Sequential model needs batch_input_shape`,
        );
      }
      previous = `${layerName(first, where)}_input`;
      nodes.push({
        name: previous,
        className: "InputLayer",
        config: { batch_input_shape: shape, dtype: first.config.dtype ?? "float32", sparse: false, name: previous },
        inbound: [],
      });
    }
    for (const layer of layers) {
      const config = { ...layer.config };
      if (layer.class_name !== "InputLayer") delete config.batch_input_shape;
      const node: LayerNode = {
        name: layerName(layer, where),
        className: layer.class_name,
        config,
        inbound: previous === undefined ? [] : [previous],
      };
      nodes.push(node);
      previous = node.name;
    }
    return { name, nodes, inputs: [nodes[0]?.name as string], outputs: [previous as string] };
  }
  if (root.class_name === "Model" || root.class_name === "Functional") {
    if (Array.isArray(cfg) || cfg === undefined || !Array.isArray(cfg.layers)) {
      throw new ZeropointError("invalid-model", `${where}: functional model config has no layers`);
    }
    const nodes = cfg.layers.map((l) => ({
      name: layerName(l, where),
      className: l.class_name,
      config: { ...l.config },
      inbound: inboundOf(l, where),
    }));
    const names = (list: unknown[][] | undefined) => (list ?? []).map((e) => e[0] as string);
    return { name: cfg.name ?? "model", nodes, inputs: names(cfg.input_layers), outputs: names(cfg.output_layers) };
  }
  throw new ZeropointError("unsupported-op", `${where}: unsupported model class ${root.class_name}`);
}

/** The functional model topology tfjs' `modelFromJSON` builds the graph from. */
export function layerGraphToTopology(graph: LayerGraph): Record<string, unknown> {
  return {
    class_name: "Model",
    config: {
      name: graph.name,
      layers: graph.nodes.map((n) => ({
        name: n.name,
        class_name: n.className,
        config: { ...n.config, name: n.name },
        inbound_nodes: n.inbound.length === 0 ? [] : [n.inbound.map((i) => [i, 0, 0, {}])],
      })),
      input_layers: graph.inputs.map((i) => [i, 0, 0]),
      output_layers: graph.outputs.map((o) => [o, 0, 0]),
    },
    keras_version: "tfjs-layers 4.22.0",
    backend: "tensor_flow.js",
  };
}

/** Layers that consume `name`'s output. */
export function consumersOf(graph: LayerGraph, name: string): LayerNode[] {
  return graph.nodes.filter((n) => n.inbound.includes(name));
}

/** Looks a node up by name; throws `invalid-model` if absent. */
export function nodeByName(graph: LayerGraph, name: string): LayerNode {
  const node = graph.nodes.find((n) => n.name === name);
  if (node === undefined) throw new ZeropointError("invalid-model", `layer ${name} is not in the graph`);
  return node;
}

/** Removes `node` and makes its consumers (and graph outputs) read its single input instead. */
export function bypassNode(graph: LayerGraph, node: LayerNode): void {
  const input = node.inbound[0];
  if (input === undefined || node.inbound.length !== 1) {
    throw new ZeropointError("invalid-state", `cannot bypass layer ${node.name}: it needs exactly one input`);
  }
  for (const n of graph.nodes) n.inbound = n.inbound.map((i) => (i === node.name ? input : i));
  graph.outputs = graph.outputs.map((o) => (o === node.name ? input : o));
  graph.nodes = graph.nodes.filter((n) => n !== node);
}

/** Inserts `node` right after `after`, rewiring `after`'s consumers (and outputs) to read `node`. */
export function insertAfter(graph: LayerGraph, after: string, node: LayerNode): void {
  for (const n of graph.nodes) n.inbound = n.inbound.map((i) => (i === after ? node.name : i));
  graph.outputs = graph.outputs.map((o) => (o === after ? node.name : o));
  node.inbound = [after];
  const index = graph.nodes.findIndex((n) => n.name === after);
  graph.nodes.splice(index + 1, 0, node);
}
