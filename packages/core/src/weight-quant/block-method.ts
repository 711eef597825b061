import { ZeropointError } from "../errors/zeropoint-error.js";
import { awqSearch } from "./awq.js";
import { gptqQuantize, type MatrixMultiply } from "./gptq.js";
import {
  dequantizeGroups,
  type GroupQuantized,
  type GroupQuantOptions,
  hqqGroupQuantize,
  rtnGroupQuantize,
} from "./group-quant.js";

/** How a layer's blocks are chosen. */
export type BlockMethod = "rtn" | "mse" | "hqq" | "awq" | "gptq";

/** Calibration activations entering one layer: `count` rows of length k. */
export interface ActivationRows {
  readonly rows: Float32Array;
  readonly count: number;
}

/** Options of {@link quantizeBlocks}. */
export interface BlockMethodOptions extends GroupQuantOptions {
  readonly method: BlockMethod;
  /** GPTQ: act-order (decreasing Hessian diagonal). */
  readonly actOrder?: boolean;
  /** GPTQ: the GEMM of its blocked steps (an adapter's faster one); default core's. */
  readonly matmul?: MatrixMultiply;
}

/** A layer's blocks and, for AWQ, the per-input-channel scales the weights were multiplied by. */
export interface BlockResult {
  readonly quantized: GroupQuantized;
  /** AWQ: the activations must be divided by these (length k); absent when no scaling was chosen. */
  readonly inputScales?: Float32Array;
  /** HQQ's zero points are real-valued (MatMulNBits then takes them as floats). */
  readonly floatZeroPoints: boolean;
}

/**
 * One table of the block-wise methods, read by every caller (weight-only int4/int8 MatMulNBits,
 * mixed precision's sensitivity pass), so a method means the same thing wherever it is asked for.
 * `columnMajor[c * k + i]` is weight i of output column c. AWQ and GPTQ need activation rows.
 */
export async function quantizeBlocks(
  columnMajor: Float32Array,
  k: number,
  columns: number,
  activations: ActivationRows | undefined,
  options: BlockMethodOptions,
): Promise<BlockResult> {
  const group: GroupQuantOptions = {
    bits: options.bits,
    blockSize: options.blockSize,
    ...(options.symmetric !== undefined ? { symmetric: options.symmetric } : {}),
  };
  const method = options.method;
  if ((method === "awq" || method === "gptq") && activations === undefined)
    throw new ZeropointError("invalid-argument", `${method.toUpperCase()} needs calibration activations`);
  if (method === "awq" && activations !== undefined) {
    const awq = awqSearch(columnMajor, k, columns, activations.rows, activations.count, { ...group, clipSearch: true });
    return {
      quantized: awq.quantized,
      ...(awq.alpha > 0 ? { inputScales: awq.scales } : {}),
      floatZeroPoints: false,
    };
  }
  if (method === "gptq" && activations !== undefined)
    return {
      quantized: await gptqQuantize(columnMajor, k, columns, activations.rows, activations.count, {
        ...group,
        actOrder: options.actOrder === true,
        ...(options.matmul !== undefined ? { matmul: options.matmul } : {}),
      }),
      floatZeroPoints: false,
    };
  if (method === "hqq") return { quantized: hqqGroupQuantize(columnMajor, k, columns, group), floatZeroPoints: true };
  return {
    quantized: rtnGroupQuantize(columnMajor, k, columns, { ...group, clipSearch: method === "mse" }),
    floatZeroPoints: false,
  };
}

/** The weights a {@link BlockResult} computes with: dequantized blocks divided by AWQ's scales. */
export function effectiveWeights(result: BlockResult): Float32Array {
  const dq = dequantizeGroups(result.quantized);
  const s = result.inputScales;
  if (s === undefined) return dq;
  const k = result.quantized.k;
  for (let c = 0; c < result.quantized.columns; c++)
    for (let i = 0; i < k; i++) dq[c * k + i] = (dq[c * k + i] as number) / (s[i] as number);
  return dq;
}

/**
 * A layer's relative output error on its calibration rows, sum ||X (W - W_q)||^2 / sum ||X W||^2
 * (the inverse of its SQNR), accumulated in float64: comparable across layers of any size, which
 * is what ranking layers for mixed precision needs. 0 when the output is all zero.
 */
export function relativeOutputError(
  columnMajor: Float32Array,
  quantized: Float32Array,
  k: number,
  columns: number,
  activations: ActivationRows,
): number {
  if (activations.rows.length !== activations.count * k)
    throw new ZeropointError(
      "shape-mismatch",
      `${activations.rows.length} activations for ${activations.count} rows of ${k}`,
    );
  let noise = 0;
  let signal = 0;
  for (let r = 0; r < activations.count; r++) {
    const x = activations.rows.subarray(r * k, (r + 1) * k);
    for (let c = 0; c < columns; c++) {
      let exact = 0;
      let approx = 0;
      for (let i = 0; i < k; i++) {
        const xi = x[i] as number;
        exact += xi * (columnMajor[c * k + i] as number);
        approx += xi * (quantized[c * k + i] as number);
      }
      noise += (exact - approx) ** 2;
      signal += exact * exact;
    }
  }
  return signal === 0 ? 0 : noise / signal;
}
