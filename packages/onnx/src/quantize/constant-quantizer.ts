import { type QuantScheme, quantizeBias } from "@zeropoint/core";
import type { GraphIndex } from "../graph/graph-index.js";
import type { OnnxGraph, OnnxNode, OnnxTensor } from "../model/onnx-schema.js";
import { makeTensor, readFloat32, tensorDims } from "../model/tensor-data.js";
import { weightAxis } from "./static-plan.js";
import { type QuantizedWeight, quantizeWeightTensor, requantizeWithScales } from "./weights.js";

const INT32_MAX = 2147483647;

/** Names of a quantized constant in the graph. */
export interface QuantizedConstant {
  readonly values: string;
  readonly scale: string;
  readonly zeroPoint: string;
  readonly axis: number | undefined;
  readonly weight: QuantizedWeight;
}

/**
 * Writes quantized weights and int32 biases into the graph as initializers, named as onnxruntime
 * names them (`w_quantized`, `w_scale`, `w_zero_point`), each quantized once however many nodes read it.
 */
export class ConstantQuantizer {
  private readonly done = new Map<string, QuantizedConstant>();

  constructor(
    private readonly graph: OnnxGraph,
    private readonly index: GraphIndex,
  ) {}

  /** Quantizes the weight input of `node` (per-channel along its default axis when the scheme asks). */
  weight(node: OnnxNode, name: string, scheme: QuantScheme, perTensor = false): QuantizedConstant {
    const key = `${name}|${JSON.stringify(scheme)}|${perTensor}`;
    const cached = this.done.get(key);
    if (cached) return cached;
    const tensor = this.index.initializers.get(name) as OnnxTensor;
    const rank = tensorDims(tensor).length;
    const axis = !perTensor && scheme.granularity === "per-channel" && rank > 1 ? weightAxis(node, rank) : undefined;
    const weight = quantizeWeightTensor(tensor, scheme, axis);
    return this.store(key, name, weight);
  }

  private store(key: string, name: string, weight: QuantizedWeight): QuantizedConstant {
    const perChannel = weight.axis !== undefined;
    const values = this.index.uniqueName(`${name}_quantized`);
    const scale = this.index.uniqueName(`${name}_scale`);
    const zeroPoint = this.index.uniqueName(`${name}_zero_point`);
    const zpDims = perChannel ? [weight.qparams.zeroPoint.length] : [];
    const zp =
      weight.qparams.dtype === "uint8"
        ? Uint8Array.from(weight.qparams.zeroPoint)
        : Int8Array.from(weight.qparams.zeroPoint);
    this.graph.initializer.push(
      makeTensor(values, weight.dims, weight.values),
      makeTensor(scale, zpDims, Float32Array.from(weight.qparams.scale)),
      makeTensor(zeroPoint, zpDims, zp),
    );
    const entry = { values, scale, zeroPoint, axis: weight.axis, weight };
    this.done.set(key, entry);
    return entry;
  }

  /**
   * int32 bias with scale `input_scale * weight_scale`. Where the bias would overflow int32 the
   * weight scale of that channel is raised first (onnxruntime's int32-bias weight adjustment), so
   * the bias is never clipped; the adjusted weight is returned.
   */
  bias(
    name: string,
    inputScale: number,
    weight: QuantizedConstant,
    weightSource: OnnxTensor,
  ): { values: string; scale: string; zeroPoint: string; weight: QuantizedConstant } {
    const bias = readFloat32(this.index.initializers.get(name) as OnnxTensor);
    let w = weight;
    const scales = Float32Array.from(w.weight.qparams.scale);
    let raised = false;
    for (let c = 0; c < bias.length; c++) {
      const k = scales.length === 1 ? 0 : c;
      const needed = Math.abs(bias[c] as number) / (inputScale * INT32_MAX);
      if ((scales[k] as number) < needed) {
        scales[k] = Math.fround(needed * 1.0001);
        raised = true;
      }
    }
    if (raised) w = this.replaceFrom(weight, weightSource, scales);
    const q = quantizeBias(
      bias,
      inputScale,
      w.weight.qparams.scale.length === 1 ? (w.weight.qparams.scale[0] as number) : w.weight.qparams.scale,
    );
    const values = this.index.uniqueName(`${name}_quantized`);
    const scale = this.index.uniqueName(`${name}_quantized_scale`);
    const zeroPoint = this.index.uniqueName(`${name}_quantized_zero_point`);
    const perChannel = q.scale.length > 1;
    const scaleValues = perChannel ? q.scale : Float32Array.of(q.scale[0] as number);
    this.graph.initializer.push(
      makeTensor(values, [bias.length], q.values),
      makeTensor(scale, perChannel ? [q.scale.length] : [], scaleValues),
      makeTensor(zeroPoint, perChannel ? [q.scale.length] : [], new Int32Array(perChannel ? q.scale.length : 1)),
    );
    return { values, scale, zeroPoint, weight: w };
  }

  private replaceFrom(previous: QuantizedConstant, source: OnnxTensor, scales: Float32Array): QuantizedConstant {
    const weight = requantizeWithScales(source, previous.weight, scales);
    const values = this.graph.initializer.find((t) => t.name === previous.values) as OnnxTensor;
    Object.assign(values, makeTensor(previous.values, weight.dims, weight.values));
    const scaleTensor = this.graph.initializer.find((t) => t.name === previous.scale) as OnnxTensor;
    Object.assign(scaleTensor, makeTensor(previous.scale, previous.axis === undefined ? [] : [scales.length], scales));
    const updated = { ...previous, weight };
    for (const [k, v] of this.done) if (v === previous) this.done.set(k, updated);
    return updated;
  }
}
