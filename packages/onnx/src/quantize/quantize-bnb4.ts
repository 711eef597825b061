import { ZeropointError } from "@zeropoint/core";
import { attributes, GraphIndex } from "../graph/graph-index.js";
import { preprocessGraph, pruneUnusedInitializers } from "../graph/preprocess.js";
import { workingCopy } from "../model/model-io.js";
import { DataType, type OnnxGraph, type OnnxModel, type OnnxNode } from "../model/onnx-schema.js";
import { makeTensor, readFloat32, tensorDims } from "../model/tensor-data.js";
import type { QuantizeReport } from "./quantize-static.js";

/**
 * The 16 NormalFloat-4 levels of bitsandbytes (quantiles of a unit normal, rescaled to [-1, 1] with
 * an exact 0), which onnxruntime's MatMulBnb4 dequantizes with (quant_type 1).
 */
export const NF4_LEVELS: readonly number[] = [
  -1, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334,
  -0.09105003625154495, 0, 0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
  0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1,
];

/**
 * The 16 FP4 levels of bitsandbytes (1 sign, 2 exponent, 1 mantissa bits, bias 3, divided by the
 * format's absmax 12), in code order: code c has its sign in bit 3, as onnxruntime's MatMulBnb4
 * dequantizes with quant_type 0.
 */
export const FP4_LEVELS: readonly number[] = [
  0,
  0.0625 / 12,
  8 / 12,
  1,
  4 / 12,
  6 / 12,
  2 / 12,
  3 / 12,
  -0,
  -0.0625 / 12,
  -8 / 12,
  -1,
  -4 / 12,
  -6 / 12,
  -2 / 12,
  -3 / 12,
];

/** Options of {@link quantizeBnb4}. */
export interface Bnb4Options {
  /** Elements per absmax block, a power of two >= 16 (default 64, bitsandbytes' and transformers.js'). */
  readonly blockSize?: number;
  /**
   * The output projection (a MatMul writing a graph output: an LM head, a classifier) stays
   * `float` (default), as bitsandbytes' transformers integration keeps `lm_head` unquantized, or
   * is stored `bnb4` like the rest. Measured on the zoo GPT: NF4 there raised perplexity 19.43 -> 28.65.
   */
  readonly outputProjection?: "float" | "bnb4";
  /** The 4-bit code book: `nf4` (default, transformers.js' bnb4) or `fp4`. */
  readonly quantType?: "nf4" | "fp4";
}

/**
 * bnb4 weight-only quantization (transformers.js `bnb4`): each MatMul with a constant 2-D float32
 * weight becomes com.microsoft `MatMulBnb4` with NF4 codes. The weight is stored transposed
 * ([N, K] flattened, as the kernel dequantizes it) in blocks of `blockSize` elements, each scaled by
 * its absolute maximum; a code is the NF4 level nearest to x / absmax, two per byte with the first
 * element in the high nibble. Gemm, Conv and embeddings stay float, as onnxruntime's
 * MatMulBnb4Quantizer leaves them, and so does the output projection unless asked.
 */
export function quantizeBnb4(
  input: OnnxModel | string | Uint8Array,
  options: Bnb4Options = {},
): { model: OnnxModel; report: QuantizeReport } {
  const model = workingCopy(input);
  const blockSize = options.blockSize ?? 64;
  const fp4 = options.quantType === "fp4";
  if (options.quantType !== undefined && options.quantType !== "nf4" && !fp4)
    throw new ZeropointError("invalid-argument", `bnb4 quant type is nf4 or fp4, got ${String(options.quantType)}`);
  if (!Number.isInteger(blockSize) || blockSize < 16 || (blockSize & (blockSize - 1)) !== 0)
    throw new ZeropointError("invalid-argument", `bnb4 block size must be a power of two >= 16, got ${blockSize}`);
  const graph = model.graph as OnnxGraph;
  preprocessGraph(graph);
  const index = new GraphIndex(graph);
  const quantizedNodes: string[] = [];
  const floatNodes: QuantizeReport["floatNodes"] = [];
  const out: OnnxNode[] = [];
  const packedByWeight = new Map<string, { b: string; absmax: string; k: number; n: number }>();
  for (const node of graph.node) {
    if (node.opType !== "MatMul" || (node.domain ?? "") !== "") {
      out.push(node);
      continue;
    }
    if (options.outputProjection !== "bnb4" && index.graphOutputs.has(node.output[0] ?? "")) {
      out.push(node);
      floatNodes.push({
        name: node.name ?? "",
        opType: "MatMul",
        reason: "output projection kept float (as bitsandbytes keeps lm_head)",
      });
      continue;
    }
    const weightName = node.input[1] ?? "";
    const weight = index.initializers.get(weightName);
    if (weight === undefined || weight.dataType !== DataType.FLOAT || tensorDims(weight).length !== 2) {
      out.push(node);
      floatNodes.push({ name: node.name ?? "", opType: "MatMul", reason: "weight is not a 2-D float32 constant" });
      continue;
    }
    let packed = packedByWeight.get(weightName);
    if (packed === undefined) {
      const [k, n] = tensorDims(weight) as [number, number];
      const data = readFloat32(weight);
      const count = k * n;
      const blocks = Math.ceil(count / blockSize);
      const codes = new Uint8Array(Math.ceil(count / 2));
      const absmax = new Float32Array(blocks);
      // Element e of the transposed weight: column e / k of W, row e % k.
      const at = (e: number) => data[(e % k) * n + Math.floor(e / k)] as number;
      for (let b = 0; b < blocks; b++) {
        const end = Math.min(count, (b + 1) * blockSize);
        let max = 0;
        for (let e = b * blockSize; e < end; e++) max = Math.max(max, Math.abs(at(e)));
        absmax[b] = max;
        const inverse = max > 0 ? 1 / max : 0;
        for (let e = b * blockSize; e < end; e++) {
          const code = fp4 ? nearestFp4(at(e) * inverse) : nearestNf4(at(e) * inverse);
          codes[e >> 1] = (codes[e >> 1] as number) | ((e & 1) === 0 ? code << 4 : code);
        }
        // An odd tail pads with the code of 0 (NF4 level 7, FP4 code 0), as onnxruntime does.
        if (end === count && (count & 1) === 1) codes[count >> 1] = (codes[count >> 1] as number) | (fp4 ? 0 : 7);
      }
      packed = {
        b: index.uniqueName(`${weightName}_Bnb4`),
        absmax: index.uniqueName(`${weightName}_absmax`),
        k,
        n,
      };
      graph.initializer.push(makeTensor(packed.b, [codes.length], codes), makeTensor(packed.absmax, [blocks], absmax));
      packedByWeight.set(weightName, packed);
    }
    quantizedNodes.push(node.name ?? "");
    out.push({
      name: index.uniqueName(`${node.name ?? "MatMul"}_Bnb4`),
      opType: "MatMulBnb4",
      domain: "com.microsoft",
      input: [node.input[0] as string, packed.b, packed.absmax],
      output: [...node.output],
      attribute: attributes({ K: packed.k, N: packed.n, block_size: blockSize, quant_type: fp4 ? 0 : 1 }),
    });
  }
  graph.node = out;
  pruneUnusedInitializers(graph);
  if (quantizedNodes.length > 0 && !model.opsetImport.some((o) => o.domain === "com.microsoft"))
    model.opsetImport.push({ domain: "com.microsoft", version: 1 });
  return {
    model,
    report: {
      approach: "weight-only",
      format: `bnb4 ${fp4 ? "FP4" : "NF4"} MatMulBnb4 (block ${blockSize})`,
      quantizedNodes,
      floatNodes,
    },
  };
}

/** The NF4 code whose level is nearest to x in [-1, 1] (ties to the lower code). */
export function nearestNf4(x: number): number {
  let best = 0;
  let distance = Number.POSITIVE_INFINITY;
  for (let c = 0; c < 16; c++) {
    const d = Math.abs(x - (NF4_LEVELS[c] as number));
    if (d < distance) {
      distance = d;
      best = c;
    }
  }
  return best;
}

/**
 * The FP4 code nearest to x in [-1, 1]: the sign in bit 3 (negative x, even a tiny one, keeps its
 * sign as onnxruntime's QuantizeOneFP4 does), the magnitude's nearest level, ties to the smaller
 * magnitude (its thresholds are the midpoints, compared with >).
 */
export function nearestFp4(x: number): number {
  const sign = x < 0 ? 8 : 0;
  const magnitude = Math.abs(x);
  let best = 0;
  let distance = Number.POSITIVE_INFINITY;
  for (let c = 0; c < 8; c++) {
    const level = FP4_LEVELS[c] as number;
    const d = Math.abs(magnitude - level);
    if (d < distance || (d === distance && level < (FP4_LEVELS[best] as number))) {
      distance = d;
      best = c;
    }
  }
  return best + sign;
}
