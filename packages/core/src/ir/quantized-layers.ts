import type { IrGraph, IrNode } from "./model-graph.js";

/** A weighted IR node every approach quantizes, and the node whose output is its quantized output. */
export interface QuantizedLayer {
  readonly node: IrNode;
  /** The node itself, or the ReLU/ReLU6 right after it that every backend fuses into it. */
  readonly outputNode: IrNode;
}

const WEIGHTED = new Set(["conv2d", "depthwise-conv2d", "linear"]);

/**
 * The layers of an IR graph that quantize (convolutions and linears), each with the node whose
 * output carries its output quantization parameters: a following ReLU/ReLU6 that reads only it is
 * fused, as fbgemm, onnxruntime and TFLite all fuse it, so every adapter reports the same tensor.
 */
export function quantizedLayers(ir: IrGraph): QuantizedLayer[] {
  const out: QuantizedLayer[] = [];
  for (const [i, node] of ir.nodes.entries()) {
    if (!WEIGHTED.has(node.op)) continue;
    const next = ir.nodes[i + 1];
    const fused = next !== undefined && (next.op === "relu" || next.op === "relu6") && next.inputs[0] === node.output;
    out.push({ node, outputNode: fused ? next : node });
  }
  return out;
}
