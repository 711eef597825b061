import {
  type ActivationRows,
  chooseLayerBits,
  effectiveWeights,
  type LayerCandidates,
  type LayerChoice,
  type LayerDecision,
  type MatrixMultiply,
  quantizeBlocks,
  relativeOutputError,
  ZeropointError,
} from "@zeropoint/core";
import type { CalibrationSource } from "../calibration/calibration-source.js";
import { collectActivationRows } from "../calibration/collect-rows.js";
import { intAttribute } from "../graph/graph-index.js";
import { preprocessGraph } from "../graph/preprocess.js";
import { encodeModel, workingCopy } from "../model/model-io.js";
import { DataType, type OnnxModel, type OnnxNode, type OnnxTensor } from "../model/onnx-schema.js";
import { readFloat32, tensorDims } from "../model/tensor-data.js";
import { onnxruntimeMatrixMultiply } from "../runtime/onnxruntime-matmul.js";
import type { QuantizeReport } from "./quantize-static.js";
import { quantizeWeightOnly, type WeightOnlyOptions } from "./quantize-weight-only.js";

/** Options of {@link quantizeMixed}. */
export interface MixedOptions extends Omit<WeightOnlyOptions, "weightType" | "layerBits" | "int4OutputProjection"> {
  /** Activations that rank the layers (and fit AWQ/GPTQ): required. */
  readonly calibrationData: CalibrationSource;
  /**
   * The size budget: `{ ratio }` of the all-int4 model's encoded size (default 1.25), or an
   * absolute `{ bytes }` for the whole encoded model.
   */
  readonly maxSize?: { readonly ratio: number } | { readonly bytes: number };
  /** Stop upgrading once the summed relative output error is at most this (a loss budget). */
  readonly targetError?: number;
  /** Precisions a layer may take, from 4 (int4), 8 (8-bit MatMulNBits), 16 (float). Default all three. */
  readonly bits?: readonly (4 | 8 | 16)[];
}

/** What mixed precision chose, per layer, and the sizes it worked with. */
export interface MixedReport extends QuantizeReport {
  readonly layers: readonly (LayerDecision & { readonly opType: string })[];
  /** Encoded size of the same model with every candidate layer at int4. */
  readonly int4Bytes: number;
  readonly budgetBytes: number;
  /** Encoded size of the result. */
  readonly bytes: number;
}

/**
 * int4 weight-only with mixed precision by measured sensitivity: every MatMul/Gemm with a constant
 * 2-D float weight (the output projection included) is quantized at each allowed precision with
 * the chosen int4 method, its relative output error measured on the calibration activations that
 * enter it (sum ||X (W - W_q)||^2 / sum ||X W||^2), and the most error per byte bought back
 * (int8 or float) within the size budget, as {@link chooseLayerBits} decides. The sensitivity pass
 * quantizes each layer alone, so memory is one layer's weights and activation rows at a time.
 */
export async function quantizeMixed(
  input: OnnxModel | string | Uint8Array,
  options: MixedOptions,
): Promise<{ model: OnnxModel; report: MixedReport }> {
  const model = workingCopy(input);
  const candidates = await mixedPrecisionCandidates(model, options);
  const method = options.int4Method ?? "rtn";
  // The all-int4 size, measured: the same weight-only pass with no layer upgraded (RTN stands in
  // for the data-aware methods, whose stored bytes are the same up to AWQ's k scales per layer).
  const sizeMethod = method === "hqq" ? "hqq" : "rtn";
  const { calibrationData: _unused, ...sizeOptions } = options;
  const { model: int4 } = await quantizeWeightOnly(model, {
    ...sizeOptions,
    weightType: "int4",
    int4Method: sizeMethod,
    int4OutputProjection: "int4",
  });
  const int4Bytes = encodeModel(int4).length;
  const max = options.maxSize ?? { ratio: 1.25 };
  const budgetBytes = "ratio" in max ? Math.floor(max.ratio * int4Bytes) : max.bytes;
  if (!(budgetBytes >= int4Bytes))
    throw new ZeropointError(
      "invalid-argument",
      `size budget ${budgetBytes} bytes is below the all-int4 model's ${int4Bytes} bytes`,
    );
  const decisions = chooseLayerBits(candidates, budgetBytes - int4Bytes, options.targetError);
  const layerBits = Object.fromEntries(decisions.map((d) => [d.name, d.bits as 4 | 8 | 16]));
  const { model: out, report } = await quantizeWeightOnly(model, {
    ...options,
    weightType: "int4",
    int4OutputProjection: "int4",
    layerBits,
  });
  const opOf = new Map(candidates.map((c) => [c.name, c.opType] as const));
  return {
    model: out,
    report: {
      ...report,
      format: `${report.format}, mixed precision`,
      layers: decisions.map((d) => ({ ...d, opType: opOf.get(d.name) ?? "" })),
      int4Bytes,
      budgetBytes,
      bytes: encodeModel(out).length,
    },
  };
}

/** Options of {@link mixedPrecisionCandidates}: the int4 settings and calibration data of {@link quantizeMixed}. */
export type MixedCandidateOptions = Omit<MixedOptions, "maxSize" | "targetError">;

/**
 * The sensitivity pass of mixed precision: every MatMul/Gemm with a constant 2-D float weight (the
 * output projection included), quantized alone at each allowed precision with the chosen method,
 * with its stored bytes and relative output error on the calibration activations that enter it.
 * `quantizeMixed` spends a size budget on these; `zeropoint tune --bits` searches them for the
 * smallest model that meets an accuracy criterion. The model is not modified.
 */
export async function mixedPrecisionCandidates(
  input: OnnxModel | string | Uint8Array,
  options: MixedCandidateOptions,
): Promise<(LayerCandidates & { readonly opType: string })[]> {
  const model = workingCopy(input);
  if (options.calibrationData === undefined)
    throw new ZeropointError("invalid-argument", "mixed precision ranks layers on calibration data (--calib-data)");
  const allowed = [...new Set(options.bits ?? [4, 8, 16])].sort((a, b) => a - b);
  if (allowed[0] !== 4 || allowed.some((b) => b !== 4 && b !== 8 && b !== 16))
    throw new ZeropointError(
      "invalid-argument",
      `mixed precision bits are 4 (required), 8 and 16; got ${allowed.join(",")}`,
    );
  const graph = model.graph;
  if (graph === undefined || graph === null) throw new ZeropointError("invalid-model", "model has no graph");
  preprocessGraph(graph);
  const blockSize = options.blockSize ?? 32;
  const method = options.int4Method ?? "rtn";
  const initializers = new Map(graph.initializer.map((t) => [t.name ?? "", t] as const));
  const layers = graph.node.filter((n) => candidateWeight(n, initializers) !== undefined);
  const inputs = [...new Set(layers.map((n) => n.input[0] ?? ""))];
  const rows = await collectActivationRows(model, inputs, options.calibrationData, options.awqRows ?? 512);
  const candidates: (LayerCandidates & { opType: string })[] = [];
  const gemm = method === "gptq" ? await onnxruntimeMatrixMultiply() : undefined;
  try {
    for (const node of layers) {
      const weight = candidateWeight(node, initializers) as OnnxTensor;
      const activations = rows.get(node.input[0] ?? "");
      const { columnMajor, k, n } = columns(node, weight);
      if (activations === undefined || activations.width !== k) continue;
      const half = weight.dataType === DataType.FLOAT16;
      const choices: LayerChoice[] = [];
      for (const bits of allowed)
        choices.push(
          bits === 16
            ? { bits, bytes: k * n * (half ? 2 : 4), error: 0 }
            : {
                bits,
                bytes: storedBytes(bits, k, n, blockSize, method, options.int4Symmetric === true, half),
                error: await layerError(columnMajor, k, n, activations, {
                  ...options,
                  bits,
                  blockSize,
                  method,
                  ...(gemm !== undefined ? { matmul: gemm.matmul } : {}),
                }),
              },
        );
      candidates.push({ name: node.name ?? "", opType: node.opType ?? "", choices });
    }
  } finally {
    await gemm?.release();
  }
  return candidates;
}

/** The float 2-D constant weight of a MatMul / plain Gemm that MatMulNBits can take, else undefined. */
function candidateWeight(node: OnnxNode, initializers: Map<string, OnnxTensor>): OnnxTensor | undefined {
  const op = node.opType ?? "";
  if ((op !== "MatMul" && op !== "Gemm") || (node.domain ?? "") !== "" || !node.name) return undefined;
  if (op === "Gemm" && intAttribute(node, "transA", 0) !== 0) return undefined;
  const t = initializers.get(node.input[1] ?? "");
  if (t === undefined || (t.dataType !== DataType.FLOAT && t.dataType !== DataType.FLOAT16)) return undefined;
  return tensorDims(t).length === 2 ? t : undefined;
}

/** The weight as MatMulNBits columns: `columnMajor[c * k + i]` = B[i, c] (Gemm transB: B^T). */
function columns(node: OnnxNode, weight: OnnxTensor): { columnMajor: Float32Array; k: number; n: number } {
  const [rows, cols] = tensorDims(weight) as [number, number];
  const data = readFloat32(weight);
  const transposed = node.opType === "Gemm" && intAttribute(node, "transB", 0) === 1;
  const k = transposed ? cols : rows;
  const n = transposed ? rows : cols;
  const columnMajor = new Float32Array(n * k);
  for (let c = 0; c < n; c++)
    for (let i = 0; i < k; i++)
      columnMajor[c * k + i] = transposed ? (data[c * cols + i] as number) : (data[i * cols + c] as number);
  return { columnMajor, k, n };
}

async function layerError(
  columnMajor: Float32Array,
  k: number,
  n: number,
  activations: ActivationRows,
  o: {
    bits: number;
    blockSize: number;
    method: NonNullable<WeightOnlyOptions["int4Method"]>;
    int4Symmetric?: boolean;
    gptqActOrder?: boolean;
    matmul?: MatrixMultiply;
  },
): Promise<number> {
  const result = await quantizeBlocks(columnMajor, k, n, activations, {
    bits: o.bits,
    blockSize: o.blockSize,
    symmetric: o.int4Symmetric === true,
    method: o.method,
    actOrder: o.gptqActOrder === true,
    ...(o.matmul !== undefined ? { matmul: o.matmul } : {}),
  });
  return relativeOutputError(columnMajor, effectiveWeights(result), k, n, activations);
}

/** Bytes MatMulNBits stores for one layer: levels, scales, zero points (and AWQ's input scales). */
function storedBytes(
  bits: number,
  k: number,
  n: number,
  blockSize: number,
  method: string,
  symmetric: boolean,
  half: boolean,
): number {
  const blocks = Math.ceil(k / blockSize);
  const scaleBytes = half ? 2 : 4;
  const levels = n * blocks * ((blockSize * bits) / 8);
  const zeroPoints = symmetric ? 0 : method === "hqq" ? n * blocks * scaleBytes : n * Math.ceil(blocks / (8 / bits));
  return levels + n * blocks * scaleBytes + zeroPoints + (method === "awq" ? k * scaleBytes : 0);
}
