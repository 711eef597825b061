import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import {
  type IrGraph,
  type IrNode,
  type IrNodeOf,
  type IrWeight,
  validateIrGraph,
  ZeropointError,
} from "@zeropoint/core";

/** A tfjs LayersModel built from an IR graph, and which tfjs layer computes each IR node's output. */
export interface IrLayersModel {
  readonly model: tfl.LayersModel;
  /** IR node name → the tfjs layer whose output is that node's output. */
  readonly layerOf: ReadonlyMap<string, string>;
}

type Layout = "nchw" | "nhwc" | "flat";
interface Value {
  readonly tensor: tfl.SymbolicTensor;
  readonly layout: Layout;
}

function notSupported(node: IrNode, why: string): ZeropointError {
  return new ZeropointError("unsupported-op", `tfjs cannot build IR node ${node.name} (${node.op}): ${why}`, {
    details: { node: node.name, op: node.op },
  });
}

function layerName(name: string, used: Set<string>): string {
  let base = name.replace(/[^A-Za-z0-9_]+/g, "_").replace(/^_+|_+$/g, "") || "layer";
  if (/^[0-9]/.test(base)) base = `l_${base}`;
  let candidate = base;
  for (let i = 2; used.has(candidate); i++) candidate = `${base}_${i}`;
  used.add(candidate);
  return candidate;
}

function tfPadding(
  node: IrNodeOf<"conv2d" | "depthwise-conv2d" | "max-pool" | "avg-pool">,
  kernel: readonly number[],
  strides: readonly number[],
  dilations: readonly number[],
): "same" | "valid" | [[number, number], [number, number]] {
  const [t = 0, l = 0, b = 0, r = 0] = node.attributes.pads ?? [];
  if (t === 0 && l === 0 && b === 0 && r === 0) return "valid";
  if (strides[0] === 1 && strides[1] === 1) {
    const totalH = ((kernel[0] as number) - 1) * (dilations[0] as number);
    const totalW = ((kernel[1] as number) - 1) * (dilations[1] as number);
    // tfjs "same" at stride 1 pads (k-1)·d in total, the smaller half on top/left.
    if (t === Math.floor(totalH / 2) && b === totalH - t && l === Math.floor(totalW / 2) && r === totalW - l)
      return "same";
  }
  return [
    [t, b],
    [l, r],
  ];
}

/**
 * Builds a tfjs LayersModel with the IR graph's weights. The model takes the IR's NCHW input; tfjs
 * convolutions and pools run in NHWC, so Permute layers are inserted where the layout has to change
 * (and before Flatten, so features are flattened in NCHW order exactly like ONNX and PyTorch).
 *
 * @throws ZeropointError `unsupported-op` naming the first node tfjs layers cannot express.
 */
export function layersModelFromIr(graph: IrGraph): IrLayersModel {
  validateIrGraph(graph);
  if (graph.inputs.length !== 1) throw new ZeropointError("unsupported-op", "tfjs IR builder: one graph input only");
  const used = new Set<string>();
  const layerOf = new Map<string, string>();
  const weights: [string, tf.Tensor[]][] = [];
  const graphInput = graph.inputs[0] as { name: string; shape: readonly (number | null)[] };
  const input = tfl.input({ shape: graphInput.shape.slice(1) as number[], name: layerName(graphInput.name, used) });
  const values = new Map<string, Value>([
    [graphInput.name, { tensor: input, layout: graphInput.shape.length === 4 ? "nchw" : "flat" }],
  ]);
  const apply = (layer: tfl.layers.Layer, x: tfl.SymbolicTensor | tfl.SymbolicTensor[]) =>
    layer.apply(x) as tfl.SymbolicTensor;
  const toLayout = (v: Value, layout: "nchw" | "nhwc", hint: string): Value => {
    if (v.layout === layout || v.layout === "flat") return v;
    const dims = layout === "nhwc" ? [2, 3, 1] : [3, 1, 2];
    return {
      tensor: apply(tfl.layers.permute({ dims, name: layerName(`${hint}_to_${layout}`, used) }), v.tensor),
      layout,
    };
  };
  const get = (node: IrNode, i: number): Value => values.get(node.inputs[i] as string) as Value;
  for (const node of graph.nodes) {
    const name = layerName(node.name, used);
    let out: Value;
    const w = node.weights;
    switch (node.op) {
      case "conv2d":
      case "depthwise-conv2d": {
        const weight = w.weight as IrWeight;
        const [m, cPerGroup, kh, kw] = weight.shape as [number, number, number, number];
        const group = node.attributes.group ?? 1;
        const depthwise = node.op === "depthwise-conv2d";
        if (!depthwise && group !== 1) throw notSupported(node, "grouped convolution");
        const strides = node.attributes.strides ?? [1, 1];
        const dilations = node.attributes.dilations ?? [1, 1];
        let x = toLayout(get(node, 0), "nhwc", name);
        let padding = tfPadding(node, [kh, kw], strides, dilations);
        if (Array.isArray(padding)) {
          x = {
            tensor: apply(tfl.layers.zeroPadding2d({ padding, name: layerName(`${name}_pad`, used) }), x.tensor),
            layout: "nhwc",
          };
          padding = "valid";
        }
        const kernel = new Float32Array(weight.data.length);
        const channels = depthwise ? group : cPerGroup;
        const mult = depthwise ? m / group : m;
        // IR [M, C/group, kh, kw] → tfjs [kh, kw, C, M] (depthwise: [kh, kw, C, M / C]).
        for (let o = 0; o < m; o++)
          for (let c = 0; c < cPerGroup; c++)
            for (let i = 0; i < kh; i++)
              for (let j = 0; j < kw; j++) {
                const src = ((o * cPerGroup + c) * kh + i) * kw + j;
                const ch = depthwise ? Math.floor(o / mult) : c;
                const mm = depthwise ? o % mult : o;
                kernel[((i * kw + j) * channels + ch) * mult + mm] = weight.data[src] as number;
              }
        const common = {
          name,
          kernelSize: [kh, kw] as [number, number],
          strides: strides as [number, number],
          dilationRate: dilations as [number, number],
          padding,
          useBias: w.bias !== undefined,
        };
        const layer = depthwise
          ? tfl.layers.depthwiseConv2d({ ...common, depthMultiplier: mult })
          : tfl.layers.conv2d({ ...common, filters: m });
        out = { tensor: apply(layer, x.tensor), layout: "nhwc" };
        weights.push([
          name,
          [tf.tensor(kernel, [kh, kw, channels, mult]), ...(w.bias ? [tf.tensor(w.bias.data, [m])] : [])],
        ]);
        break;
      }
      case "linear": {
        const weight = w.weight as IrWeight;
        const [units, inFeatures] = weight.shape as [number, number];
        const x = get(node, 0);
        if (x.tensor.shape.length !== 2) throw notSupported(node, "linear on a tensor of rank other than 2");
        const kernel = new Float32Array(weight.data.length);
        for (let o = 0; o < units; o++)
          for (let i = 0; i < inFeatures; i++) kernel[i * units + o] = weight.data[o * inFeatures + i] as number;
        out = {
          tensor: apply(tfl.layers.dense({ name, units, useBias: w.bias !== undefined }), x.tensor),
          layout: "flat",
        };
        weights.push([
          name,
          [tf.tensor(kernel, [inFeatures, units]), ...(w.bias ? [tf.tensor(w.bias.data, [units])] : [])],
        ]);
        break;
      }
      case "batch-norm": {
        const x = get(node, 0);
        const axis = x.layout === "nhwc" ? -1 : 1;
        out = {
          tensor: apply(tfl.layers.batchNormalization({ name, axis, epsilon: node.attributes.epsilon }), x.tensor),
          layout: x.layout,
        };
        const t = (k: string) => tf.tensor((w[k] as IrWeight).data);
        weights.push([name, [t("scale"), t("bias"), t("mean"), t("variance")]]);
        break;
      }
      case "relu":
      case "relu6":
        out = {
          ...get(node, 0),
          tensor: apply(
            tfl.layers.reLU({ name, ...(node.op === "relu6" ? { maxValue: 6 } : {}) }),
            get(node, 0).tensor,
          ),
        };
        break;
      case "leaky-relu":
        out = {
          ...get(node, 0),
          tensor: apply(tfl.layers.leakyReLU({ name, alpha: node.attributes.alpha }), get(node, 0).tensor),
        };
        break;
      case "sigmoid":
        out = {
          ...get(node, 0),
          tensor: apply(tfl.layers.activation({ name, activation: "sigmoid" }), get(node, 0).tensor),
        };
        break;
      case "max-pool":
      case "avg-pool": {
        const kernel = node.attributes.kernel;
        const strides = node.attributes.strides ?? kernel;
        const padding = tfPadding(node, kernel, strides, [1, 1]);
        if (Array.isArray(padding)) throw notSupported(node, "explicit pooling pads");
        const x = toLayout(get(node, 0), "nhwc", name);
        const args = {
          name,
          poolSize: [kernel[0] ?? 1, kernel[1] ?? 1] as [number, number],
          strides: [strides[0] ?? 1, strides[1] ?? 1] as [number, number],
          padding,
        };
        const layer = node.op === "max-pool" ? tfl.layers.maxPooling2d(args) : tfl.layers.averagePooling2d(args);
        out = { tensor: apply(layer, x.tensor), layout: "nhwc" };
        break;
      }
      case "global-avg-pool": {
        const x = toLayout(get(node, 0), "nhwc", name);
        const pooled = apply(tfl.layers.globalAveragePooling2d({ name }), x.tensor);
        // ONNX keeps [N, C, 1, 1]; as NHWC that is [N, 1, 1, C].
        const channels = pooled.shape[1] as number;
        out = {
          tensor: apply(
            tfl.layers.reshape({ targetShape: [1, 1, channels], name: layerName(`${name}_keepdims`, used) }),
            pooled,
          ),
          layout: "nhwc",
        };
        break;
      }
      case "flatten": {
        if ((node.attributes.axis ?? 1) !== 1) throw notSupported(node, "flatten at an axis other than 1");
        const x = toLayout(get(node, 0), "nchw", name);
        out = { tensor: apply(tfl.layers.flatten({ name }), x.tensor), layout: "flat" };
        break;
      }
      case "reshape": {
        const shape = node.attributes.shape;
        const x = toLayout(get(node, 0), "nchw", name);
        out = {
          tensor: apply(tfl.layers.reshape({ name, targetShape: shape.slice(1) }), x.tensor),
          layout: shape.length === 4 ? "nchw" : "flat",
        };
        break;
      }
      case "add":
      case "concat": {
        if (w.other !== undefined) throw notSupported(node, "a constant operand");
        const inputs = node.inputs.map((_, i) => get(node, i));
        const layout = inputs.some((v) => v.layout === "nhwc") ? "nhwc" : (inputs[0]?.layout ?? "flat");
        const tensors = inputs.map((v) => (layout === "flat" ? v : toLayout(v, layout, name)).tensor);
        const axis =
          node.op === "concat" ? (layout === "nhwc" && node.attributes.axis === 1 ? -1 : node.attributes.axis) : 0;
        const layer = node.op === "add" ? tfl.layers.add({ name }) : tfl.layers.concatenate({ name, axis });
        out = { tensor: apply(layer, tensors), layout };
        break;
      }
      case "softmax": {
        const x = get(node, 0);
        if (x.layout !== "flat") throw notSupported(node, "softmax over a spatial tensor");
        out = { tensor: apply(tfl.layers.softmax({ name }), x.tensor), layout: "flat" };
        break;
      }
      default:
        throw notSupported(node, "no tfjs layer mapping");
    }
    values.set(node.output, out);
    layerOf.set(node.name, out.tensor.sourceLayer.name);
  }
  const outputs = graph.outputs.map((o) => {
    const v = values.get(o) as Value;
    return (v.layout === "nhwc" ? toLayout(v, "nchw", "output") : v).tensor;
  });
  const model = tfl.model({ inputs: input, outputs, name: layerName(graph.name, new Set()) });
  for (const [name, list] of weights) {
    model.getLayer(name).setWeights(list);
    tf.dispose(list);
  }
  return { model, layerOf };
}
