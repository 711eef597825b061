import {
  computeQParams,
  floatToHalf,
  packInt4,
  quantize,
  quantizeBlocks,
  resolveSettings,
  rtnGroupQuantize,
  ZeropointError,
} from "@zeropoint/core";
import type { CalibrationSource } from "../calibration/calibration-source.js";
import { collectActivationRows } from "../calibration/collect-rows.js";
import { attributes, GraphIndex, getAttribute, intAttribute } from "../graph/graph-index.js";
import { preprocessGraph, pruneUnusedInitializers } from "../graph/preprocess.js";
import { workingCopy } from "../model/model-io.js";
import { DataType, type OnnxGraph, type OnnxModel, type OnnxNode, type OnnxTensor } from "../model/onnx-schema.js";
import { makeInt64Tensor, makeTensor, readFloat32, tensorDims } from "../model/tensor-data.js";
import { onnxruntimeMatrixMultiply } from "../runtime/onnxruntime-matmul.js";
import { packLevels, packZeroPoints } from "./nbits-packing.js";
import { ONNX_OPS, WEIGHT_ONLY_INPUTS } from "./op-registry.js";
import { ensureOpset } from "./opset.js";
import { type CommonQuantizeOptions, recipeFromOptions, selectionReason } from "./options.js";
import type { QuantizeReport } from "./quantize-static.js";
import { blockMinMax, quantizeWeightTensor } from "./weights.js";

/** Options of {@link quantizeWeightOnly}. */
export interface WeightOnlyOptions extends Omit<CommonQuantizeOptions, "weightType"> {
  /** `int8` (per-channel, DequantizeLinear) or `int4` (block-wise, com.microsoft MatMulNBits). Default int8. */
  readonly weightType?: "int8" | "int4";
  /** Block length along K for int4. Default 32. */
  readonly blockSize?: number;
  /**
   * int4 storage: `matmul-nbits` (default; MatMul and Gemm become com.microsoft MatMulNBits) or
   * `dequantize-linear` (int4 initializers behind blocked DequantizeLinear, opset 21, also for Conv).
   */
  readonly int4Format?: "matmul-nbits" | "dequantize-linear";
  /**
   * MatMulNBits int4: symmetric blocks (zero point 8, no zero-point input) instead of the default
   * asymmetric ones with a per-block zero point, which onnxruntime's quantizer also defaults to.
   */
  readonly int4Symmetric?: boolean;
  /**
   * How MatMulNBits int4 blocks are chosen: `rtn` (round to nearest, default), `mse` (each block's
   * range clipped by the ratio that minimizes its squared error), `hqq` (data-free Half-Quadratic
   * Quantization of each block's zero point; float zero points) or `awq` (activation-aware
   * per-channel scales fitted on `calibrationData`, AutoAWQ's duo scaling, then each block's range
   * clipped to minimize the layer's output error on those activations) or `gptq` (Hessian-guided
   * error feedback on the same activations). Measured on the zoo GPT (all-int4, block 32): rtn
   * +37.8% perplexity over float, mse +39.2% (weight error is not what perplexity feels there), hqq
   * +27.2%, awq +4.9% (+27.0% without the clipping search), gptq +0.3% (-0.02% with act-order).
   */
  readonly int4Method?: "rtn" | "mse" | "hqq" | "awq" | "gptq";
  /** GPTQ: process input channels by decreasing Hessian diagonal (static block parameters). */
  readonly gptqActOrder?: boolean;
  /** AWQ: calibration data whose MatMul input activations fit the scales. */
  readonly calibrationData?: CalibrationSource;
  /** AWQ: activation rows kept per MatMul input (default 512). */
  readonly awqRows?: number;
  /**
   * int4: the output projection (MatMul/Gemm writing a graph output) is stored `int8` (default)
   * or `int4` like the rest.
   */
  readonly int4OutputProjection?: "int8" | "int4";
  /**
   * int4: embedding tables (Gather on a constant 2-D table, axis 0) as com.microsoft
   * `GatherBlockQuantized` with 4-bit blocks of `blockSize` along the row (`block-quantized`,
   * default) or 8-bit ones (`block-quantized-8`), or int8 behind DequantizeLinear (`int8`).
   */
  readonly int4Embeddings?: "block-quantized" | "block-quantized-8" | "int8";
  /**
   * int4 MatMulNBits: bits per MatMul/Gemm node name, as mixed precision chooses them — 4, 8 (an
   * 8-bit MatMulNBits, same blocks and method) or 16 (kept float). Named nodes override the
   * output-projection default; unnamed ones get int4.
   */
  readonly layerBits?: Readonly<Record<string, 4 | 8 | 16>>;
  /**
   * MatMulNBits `accuracy_level`: the type onnxruntime computes the activations in — 0 (unset:
   * the kernel's default), 1 float32, 2 float16, 3 bfloat16, 4 int8 (activations quantized in
   * blocks at run time; integer kernels, the fast path on CPUs). Default: not written (0).
   */
  readonly accuracyLevel?: 0 | 1 | 2 | 3 | 4;
  /** Quantize every node inside If/Loop/Scan bodies, whatever `includeNodes` says for the main graph. */
  readonly allBodies?: boolean;
}

const MS = "com.microsoft";

/** Ops int4 mode stores int8 because neither MatMulNBits nor blocked DequantizeLinear covers them here. */
const INT4_INT8_FALLBACK: ReadonlySet<string> = new Set(
  Object.entries(ONNX_OPS)
    .filter(([, e]) => e.int4 === "int8")
    .map(([op]) => op),
);

/**
 * Weight-only (storage) quantization: weights are stored in 8 or 4 bits and dequantized when the
 * model runs; activations stay float.
 * - int8: per-channel symmetric int8 initializers behind DequantizeLinear (opset >= 13), for Conv,
 *   MatMul and Gemm.
 * - int4: MatMul and Gemm with a constant 2-D weight become com.microsoft `MatMulNBits` (what JS
 *   users of 4-bit models download): blocks of `blockSize` along K, symmetric, scale
 *   `absmax_signed / -8` as onnxruntime's `quantize_ndarray`, nibbles low first, zero point 8.
 */
export async function quantizeWeightOnly(
  input: OnnxModel | string | Uint8Array,
  options: WeightOnlyOptions = {},
): Promise<{ model: OnnxModel; report: QuantizeReport }> {
  const source = workingCopy(input);
  const bits = options.weightType === "int4" ? 4 : 8;
  const blockSize = options.blockSize ?? 32;
  if (bits === 4 && (!Number.isInteger(blockSize) || blockSize < 16 || (blockSize & (blockSize - 1)) !== 0)) {
    throw new ZeropointError("invalid-argument", `block size must be a power of two >= 16, got ${blockSize}`);
  }
  const recipe = recipeFromOptions("dynamic", {
    ...options,
    weightType: "int8",
    perChannel: options.perChannel ?? true,
  });
  const blockedDq = bits === 4 && options.int4Format === "dequantize-linear";
  const level = options.accuracyLevel ?? 0;
  if (![0, 1, 2, 3, 4].includes(level))
    throw new ZeropointError("invalid-argument", `accuracy level must be 0..4, got ${String(options.accuracyLevel)}`);
  const accuracy = level === 0 ? {} : { accuracy_level: level };
  const symmetric4 = options.int4Symmetric === true;
  const model = ensureOpset(source, blockedDq ? 21 : 13);
  const top = model.graph as OnnxGraph;
  // AWQ and GPTQ fit on the float activations entering each MatMul/Gemm (main graph).
  let awqRows = new Map<string, { rows: Float32Array; count: number; width: number }>();
  const dataAware = options.int4Method === "awq" || options.int4Method === "gptq";
  if (bits === 4 && dataAware) {
    const method = (options.int4Method as string).toUpperCase();
    if (options.calibrationData === undefined)
      throw new ZeropointError("invalid-argument", `int4 ${method} needs calibration data (--calib-data)`);
    if (blockedDq)
      throw new ZeropointError(
        "invalid-argument",
        `int4 ${method} writes MatMulNBits; drop --int4-format dequantize-linear`,
      );
    preprocessGraph(top);
    const inputs = [
      ...new Set(
        top.node
          .filter((n) => (n.opType === "MatMul" || n.opType === "Gemm") && (n.domain ?? "") === "")
          .map((n) => n.input[0] ?? "")
          .filter((i) => i !== "" && !top.initializer.some((t) => t.name === i)),
      ),
    ];
    awqRows = await collectActivationRows(model, inputs, options.calibrationData, options.awqRows ?? 512);
  }
  // The graph being rewritten: the main graph, or an If/Loop/Scan body while recursing into it.
  let graph = top;
  let index: GraphIndex;
  let out: OnnxNode[] = [];
  let dequantized = new Map<string, string>();
  // Initializers of enclosing graphs, which a body may read by name (outer scope).
  let outer = new Map<string, { tensor: OnnxTensor; home: OnnxGraph }>();
  // Every name in the model, so names made in one body never collide with another's.
  const names = new Set<string>();
  const collect = (g: OnnxGraph) => {
    for (const t of g.initializer) names.add(t.name ?? "");
    for (const v of [...g.input, ...g.output]) names.add(v.name ?? "");
    for (const n of g.node) {
      if (n.name) names.add(n.name);
      for (const o of n.output) names.add(o);
      for (const a of n.attribute) for (const sub of [...(a.g ? [a.g] : []), ...(a.graphs ?? [])]) collect(sub);
    }
  };
  collect(top);
  // Tied embedding / output projection (an LM head whose weight is the embedding table transposed,
  // as exporters write tied weights): found once, stored once (see sharedTable).
  const tied = bits === 4 && !blockedDq ? findTiedHeads(top, options, recipe) : new Map<string, TiedHead>();
  const tiedTables = new Map([...tied.values()].map((t) => [t.table, t] as const));
  const shared = new Map<string, SharedTable>();
  // int8 copies of a weight, by the graph that holds it: two branches reading one outer weight share one copy.
  const stored = new Map<OnnxGraph, Map<string, { values: string; scale: string; zeroPoint: string; axis?: number }>>();
  const quantizedNodes: string[] = [];
  const floatNodes: QuantizeReport["floatNodes"] = [];
  let usesMicrosoft = false;
  const initializer = (name: string): OnnxTensor | undefined => index.initializers.get(name) ?? outer.get(name)?.tensor;
  const registryOps = (keep: (e: (typeof ONNX_OPS)[string]) => boolean) =>
    new Set(
      Object.entries(ONNX_OPS)
        .filter(([, e]) => keep(e))
        .map(([op]) => op),
    );
  const ops =
    bits === 4 && !blockedDq
      ? registryOps((e) => e.int4 === "MatMulNBits")
      : bits === 4
        ? registryOps((e) => e.int4 === "MatMulNBits" || e.int4 === "blocked-dequantize")
        : registryOps((e) => e.weightOnly !== undefined);
  // Ops int4 cannot store here, with what to do instead, so nothing is skipped silently.
  const int4Reason = (op: string): string | undefined =>
    bits !== 4
      ? undefined
      : !blockedDq && (op === "Conv" || op === "ConvTranspose")
        ? "int4 MatMulNBits covers MatMul/Gemm; --int4-format dequantize-linear stores Conv weights in int4"
        : op in WEIGHT_ONLY_INPUTS && !ops.has(op)
          ? `${op} has no int4 form here; its weights stay float (weight-only int8 stores them)`
          : undefined;

  /**
   * Rewrites one graph, after its nodes' subgraphs. A body's weights are often outer-scope
   * initializers: their int8 copies go into the body, and the float originals are pruned when
   * nothing reads them any more.
   */
  // Inside bodies, `allBodies` quantizes every node regardless of the include list (static and
  // dynamic use it for the weights their activation pass cannot reach).
  const bodySelection = options.allBodies ? { ...options, includeNodes: undefined } : options;
  const selection = () => (graph === top ? options : bodySelection);
  async function processGraph(
    g: OnnxGraph,
    enclosing: Map<string, { tensor: OnnxTensor; home: OnnxGraph }>,
  ): Promise<void> {
    const saved = { graph, index, out, dequantized, outer };
    graph = g;
    preprocessGraph(g);
    index = new GraphIndex(g, names);
    out = [];
    dequantized = new Map();
    outer = enclosing;
    const visible = new Map(enclosing);
    for (const [k, t] of index.initializers) visible.set(k, { tensor: t, home: g });
    for (const node of g.node)
      for (const a of node.attribute)
        for (const sub of [...(a.g ? [a.g] : []), ...(a.graphs ?? [])]) await processGraph(sub, visible);
    await rewriteNodes();
    g.node = out;
    ({ graph, index, out, dequantized, outer } = saved);
  }

  async function rewriteNodes(): Promise<void> {
    for (const node of graph.node) {
      const op = node.opType ?? "";
      // int4 has no form for embedding tables and recurrent weights here; they are stored int8
      // (what transformers.js q4 files do with embeddings) rather than left float.
      if (
        bits === 4 &&
        !blockedDq &&
        op === "Gather" &&
        options.int4Embeddings !== "int8" &&
        (node.domain ?? "") === ""
      ) {
        const table = initializer(node.input[0] ?? "");
        const dims = table === undefined ? [] : tensorDims(table);
        const why = selectionReason(node, selection(), recipe);
        if (
          why === undefined &&
          isFloatWeight(table) &&
          dims.length === 2 &&
          (dims[1] as number) % 2 === 0 &&
          intAttribute(node, "axis", 0) === 0 &&
          index.initializers.has(node.input[0] ?? "")
        ) {
          quantizedNodes.push(node.name ?? "");
          const tie = graph === top ? tiedTables.get(node.input[0] ?? "") : undefined;
          out.push(tie !== undefined ? await tiedGather(node, tie) : gatherBlockQuantized(node, table));
          usesMicrosoft = true;
          continue;
        }
      }
      const int8Here = bits === 8 ? ops.has(op) : INT4_INT8_FALLBACK.has(op);
      if (int8Here && (node.domain ?? "") === "") {
        const why = selectionReason(node, selection(), recipe);
        const inputs = (WEIGHT_ONLY_INPUTS[op] ?? []).filter((w) => {
          const t = initializer(node.input[w.input] ?? "");
          return t !== undefined && isFloatWeight(t) && tensorDims(t).length >= 2;
        });
        if (why !== undefined || inputs.length === 0) {
          out.push(node);
          floatNodes.push({ name: node.name ?? "", opType: op, reason: why ?? "weight is not a float constant" });
          continue;
        }
        quantizedNodes.push(node.name ?? "");
        const replaced = [...node.input];
        for (const w of inputs) replaced[w.input] = int8Weight(node, w.input, w.axis);
        out.push({ ...node, input: replaced });
        continue;
      }
      const tiedHead = graph === top && op === "MatMul" ? tied.get(node.input[1] ?? "") : undefined;
      if (tiedHead !== undefined && tiedHead.node === node) {
        quantizedNodes.push(node.name ?? "");
        out.push(...(await tiedMatMul(node, tiedHead)));
        usesMicrosoft = true;
        continue;
      }
      const chosenBits = bits === 4 && !blockedDq ? options.layerBits?.[node.name ?? ""] : undefined;
      if (chosenBits === 16 && (op === "MatMul" || op === "Gemm")) {
        out.push(node);
        floatNodes.push({ name: node.name ?? "", opType: op, reason: "mixed precision kept it float" });
        continue;
      }
      // The output projection (a MatMul/Gemm writing a graph output: an LM head, a classifier) is
      // stored int8 when int4 is asked, as llama.cpp keeps its output tensor at higher precision:
      // on the zoo GPT, int4 there alone raised perplexity 38% (int4 everywhere else: +0.02%).
      if (
        bits === 4 &&
        options.int4OutputProjection !== "int4" &&
        chosenBits === undefined &&
        (op === "MatMul" || op === "Gemm") &&
        (node.domain ?? "") === "" &&
        index.graphOutputs.has(node.output[0] ?? "") &&
        isFloatWeight(initializer(node.input[1] ?? "")) &&
        selectionReason(node, selection(), recipe) === undefined
      ) {
        quantizedNodes.push(node.name ?? "");
        const replaced = [...node.input];
        const projection = WEIGHT_ONLY_INPUTS[op]?.[0];
        if (projection === undefined) throw new ZeropointError("invalid-state", `no weight input known for ${op}`);
        replaced[1] = int8Weight(node, 1, projection.axis);
        out.push({ ...node, input: replaced });
        continue;
      }
      const weightName = node.input[1] ?? "";
      const weight = initializer(weightName);
      let reason: string | undefined = int4Reason(op);
      if (reason !== undefined) {
        out.push(node);
        floatNodes.push({ name: node.name ?? "", opType: op, reason });
        continue;
      }
      if (!ops.has(op) || (node.domain ?? "") !== "") reason = `${op} has no weight-only form here`;
      else if (selectionReason(node, selection(), recipe) !== undefined)
        reason = selectionReason(node, selection(), recipe);
      else if (!isFloatWeight(weight)) reason = "weight is not a float constant";
      else if (bits === 4 && !blockedDq && tensorDims(weight).length !== 2) reason = "MatMulNBits needs a 2-D weight";
      else if (
        op === "Gemm" &&
        (intAttribute(node, "transA", 0) !== 0 || unit(node, "alpha") === false || unit(node, "beta") === false)
      ) {
        reason = "Gemm with transA or alpha/beta != 1";
      }
      if (reason !== undefined) {
        out.push(node);
        if (ops.has(op)) floatNodes.push({ name: node.name ?? "", opType: op, reason });
        continue;
      }
      quantizedNodes.push(node.name ?? "");
      if (blockedDq) {
        let dq = dequantized.get(weightName);
        if (dq === undefined) {
          dq = blockedInt4(node, weightName, weight as OnnxTensor);
          dequantized.set(weightName, dq);
        }
        out.push({ ...node, input: node.input.map((i, k) => (k === 1 ? (dq as string) : i)) });
        continue;
      }
      // int4: MatMulNBits computes A @ B with B stored column by column ([N, blocks, blob]).
      const t = weight as OnnxTensor;
      const [rows, cols] = tensorDims(t) as [number, number];
      const data = readFloat32(t);
      const transposed = op === "Gemm" && intAttribute(node, "transB", 0) === 1;
      const k = transposed ? cols : rows;
      const n = transposed ? rows : cols;
      const at = (kk: number, nn: number) =>
        transposed ? (data[nn * cols + kk] as number) : (data[kk * cols + nn] as number);
      const blocks = Math.ceil(k / blockSize);
      // Asymmetric blocks by default (onnxruntime's MatMulNBits default): the range [min(x, 0),
      // max(x, 0)] maps onto 0..15 with a per-block zero point, so a block whose values are all of
      // one sign keeps all 16 levels instead of the 8 that symmetric int4 leaves it. HQQ then
      // optimizes each block's zero point (real-valued, which MatMulNBits takes as a float input).
      const columnMajor = new Float32Array(n * k);
      for (let col = 0; col < n; col++) for (let kk = 0; kk < k; kk++) columnMajor[col * k + kk] = at(kk, col);
      // Mixed precision may ask 8 bits for this layer: the same MatMulNBits, a byte per level.
      const layerBits = options.layerBits?.[node.name ?? ""] === 8 ? 8 : 4;
      const activations = dataAware ? awqRows.get(node.input[0] ?? "") : undefined;
      const fits = activations !== undefined && activations.width === k;
      const method = options.int4Method ?? "rtn";
      const blocksResult = await quantizeBlocks(columnMajor, k, n, fits ? activations : undefined, {
        bits: layerBits,
        blockSize,
        symmetric: symmetric4,
        // A MatMul whose input was not collected (inside a body) falls back to data-free RTN.
        method: (method === "awq" || method === "gptq") && !fits ? "rtn" : method,
        actOrder: options.gptqActOrder === true,
        ...(gemm !== undefined ? { matmul: gemm.matmul } : {}),
      });
      const q = blocksResult.quantized;
      const blob = (blockSize * layerBits) / 8;
      const packed = new Uint8Array(n * blocks * blob);
      const perByte = 8 / layerBits;
      const maxLevel = 2 ** layerBits - 1;
      for (let col = 0; col < n; col++)
        for (let bl = 0; bl < blocks; bl++)
          for (let j = 0; j < blockSize; j++) {
            const kk = bl * blockSize + j;
            // Padding past k dequantizes to 0: its level is the (rounded) zero point.
            const level =
              kk < k
                ? (q.levels[col * k + kk] as number)
                : Math.min(maxLevel, Math.max(0, Math.round(q.zeroPoints[col * blocks + bl] as number)));
            const byte = (col * blocks + bl) * blob + Math.floor(j / perByte);
            packed[byte] = (packed[byte] as number) | (level << (layerBits * (j % perByte)));
          }
      const scales = q.scales;
      // Zero points: 4-bit ones two per byte (low nibble first), 8-bit ones a byte each.
      const zpBytes = Math.ceil(blocks / perByte);
      let zeroPoints: Uint8Array | undefined;
      let floatZeroPoints: Float32Array | undefined;
      if (blocksResult.floatZeroPoints) floatZeroPoints = q.zeroPoints;
      else if (!symmetric4) {
        zeroPoints = packZeroPoints(q.zeroPoints, n, blocks, layerBits);
      }
      const label = node.name ?? op;
      // AWQ: the weights were multiplied by s per input channel; the activations are divided by it.
      let activationInput = node.input[0] as string;
      if (blocksResult.inputScales !== undefined) {
        const inverse = Float32Array.from(blocksResult.inputScales, (v) => 1 / v);
        const sName = index.uniqueName(`${label}_awq_inverse_scale`);
        graph.initializer.push(scaleTensor(sName, [k], inverse, t.dataType === DataType.FLOAT16));
        const scaled = index.uniqueName(`${label}_awq_input`);
        out.push({
          name: index.uniqueName(`${label}_awq_Mul`),
          opType: "Mul",
          input: [activationInput, sName],
          output: [scaled],
          attribute: [],
        });
        activationInput = scaled;
      }
      const bName = index.uniqueName(`${weightName}_Q${layerBits}`);
      const sName = index.uniqueName(`${weightName}_scales`);
      graph.initializer.push(
        makeTensor(bName, [n, blocks, blob], packed),
        scaleTensor(sName, [n * blocks], scales, t.dataType === DataType.FLOAT16),
      );
      const zpName =
        zeroPoints === undefined && floatZeroPoints === undefined
          ? undefined
          : index.uniqueName(`${weightName}_zero_points`);
      if (zeroPoints !== undefined && zpName !== undefined)
        graph.initializer.push(makeTensor(zpName, [n * zpBytes], zeroPoints));
      if (floatZeroPoints !== undefined && zpName !== undefined)
        graph.initializer.push(scaleTensor(zpName, [n * blocks], floatZeroPoints, t.dataType === DataType.FLOAT16));
      const bias = op === "Gemm" ? node.input[2] : undefined;
      const result = bias ? index.uniqueName(`${label}_MatMulNBits_output`) : (node.output[0] as string);
      out.push({
        name: index.uniqueName(`${label}_MatMulNBits`),
        opType: "MatMulNBits",
        domain: MS,
        input: [activationInput, bName, sName, ...(zpName !== undefined ? [zpName] : [])],
        output: [result],
        attribute: attributes({ K: k, N: n, bits: layerBits, block_size: blockSize, ...accuracy }),
      });
      if (bias)
        out.push({
          name: index.uniqueName(`${label}_Add`),
          opType: "Add",
          input: [result, bias],
          output: [node.output[0] as string],
          attribute: [],
        });
      usesMicrosoft = true;
    }
  }
  /** The int8 weight `node.input[input]` behind a DequantizeLinear (shared by every reader of it). */
  function int8Weight(node: OnnxNode, input: number, axisOf: (transB: boolean, rank: number) => number): string {
    const weightName = node.input[input] as string;
    const existing = dequantized.get(weightName);
    if (existing !== undefined) return existing;
    const t = initializer(weightName) as OnnxTensor;
    const op = node.opType ?? "";
    const scheme = resolveSettings(recipe, { opType: op, node: node.name ?? "" }).weight;
    const rank = tensorDims(t).length;
    const axis = scheme.granularity === "per-channel" ? axisOf(intAttribute(node, "transB", 0) === 1, rank) : undefined;
    const home = index.initializers.has(weightName) ? graph : (outer.get(weightName)?.home ?? graph);
    const homeStored = stored.get(home) ?? new Map();
    stored.set(home, homeStored);
    let copy = homeStored.get(weightName);
    if (copy === undefined) {
      const q = quantizeWeightTensor(t, scheme, axis);
      copy = {
        values: index.uniqueName(`${weightName}_quantized`),
        scale: index.uniqueName(`${weightName}_scale`),
        zeroPoint: index.uniqueName(`${weightName}_zero_point`),
        ...(axis !== undefined ? { axis } : {}),
      };
      const zpDims = axis === undefined ? [] : [q.qparams.zeroPoint.length];
      home.initializer.push(
        makeTensor(copy.values, q.dims, q.values),
        makeTensor(copy.scale, zpDims, Float32Array.from(q.qparams.scale)),
        makeTensor(copy.zeroPoint, zpDims, Int8Array.from(q.qparams.zeroPoint)),
      );
      homeStored.set(weightName, copy);
    }
    // The copy's own axis: a weight shared by consumers that want different axes keeps the first.
    const { values, scale, zeroPoint, axis: storedAxis } = copy;
    const dq = index.uniqueName(`${weightName}_DequantizeLinear_Output`);
    out.push({
      name: index.uniqueName(`${weightName}_DequantizeLinear`),
      opType: "DequantizeLinear",
      input: [values, scale, zeroPoint],
      output: [t.dataType === DataType.FLOAT16 ? `${dq}_float32` : dq],
      attribute: storedAxis === undefined ? [] : attributes({ axis: storedAxis }),
    });
    // A float16 weight: DequantizeLinear-13 produces float32 only, so a Cast hands the float16
    // consumer the type it was built for (float16 scales need opset 19).
    if (t.dataType === DataType.FLOAT16)
      out.push({
        name: index.uniqueName(`${weightName}_Cast`),
        opType: "Cast",
        input: [`${dq}_float32`],
        output: [dq],
        attribute: attributes({ to: DataType.FLOAT16 }),
      });
    dequantized.set(weightName, dq);
    return dq;
  }

  /**
   * An embedding table as GatherBlockQuantized: rows of H values in blocks of `blockSize`, 4-bit
   * (or 8-bit with `int4Embeddings: "block-quantized-8"`) asymmetric levels (round to nearest; the
   * op's zero points are uint8 by its schema, which rules out HQQ's float ones), packed low nibble
   * first at 4 bits, zero points packed the same way; the output has the scales' type, so a float16
   * table keeps float16 output.
   */
  function gatherBlockQuantized(node: OnnxNode, table: OnnxTensor): OnnxNode {
    const [rows, width] = tensorDims(table) as [number, number];
    const tableBits = options.int4Embeddings === "block-quantized-8" ? 8 : 4;
    const perByte = 8 / tableBits;
    const blocks = Math.ceil(width / blockSize);
    const q = rtnGroupQuantize(readFloat32(table), width, rows, { bits: tableBits, blockSize, symmetric: false });
    const data = packLevels(q.levels, tableBits);
    const zpWidth = Math.ceil(blocks / perByte);
    const zeroPoints = packZeroPoints(q.zeroPoints, rows, blocks, tableBits);
    const name = table.name ?? "table";
    const names = {
      data: index.uniqueName(`${name}_Q${tableBits}`),
      scales: index.uniqueName(`${name}_scales`),
      zeroPoints: index.uniqueName(`${name}_zero_points`),
    };
    graph.initializer.push(
      makeTensor(names.data, [rows, width / perByte], data),
      scaleTensor(names.scales, [rows, blocks], q.scales, table.dataType === DataType.FLOAT16),
      makeTensor(names.zeroPoints, [rows, zpWidth], zeroPoints),
    );
    return {
      name: index.uniqueName(`${node.name ?? "Gather"}_GatherBlockQuantized`),
      opType: "GatherBlockQuantized",
      domain: MS,
      input: [names.data, node.input[1] as string, names.scales, names.zeroPoints],
      output: [...node.output],
      attribute: attributes({ gather_axis: 0, quantize_axis: 1, block_size: blockSize, bits: tableBits }),
    };
  }

  /**
   * The one stored copy of a tied table: [V, H] quantized in blocks along H at the head's bits (8
   * when the output projection would be int8, else 4), laid out as GatherBlockQuantized reads it,
   * which is byte for byte MatMulNBits' [N, blocks, blob] for W = table^T. GPTQ fits it on the
   * head's activations when the method is GPTQ, otherwise the table is round to nearest (at 4
   * bits only a round-to-nearest head is shared, see findTiedHeads).
   */
  async function sharedTable(tie: TiedHead): Promise<SharedTable> {
    const known = shared.get(tie.table);
    if (known !== undefined) return known;
    const table = index.initializers.get(tie.table) as OnnxTensor;
    const [v, h] = tensorDims(table) as [number, number];
    const method = options.int4Method === "gptq" ? "gptq" : "rtn";
    const rows = awqRows.get(tie.node.input[0] ?? "");
    const result = await quantizeBlocks(
      readFloat32(table),
      h,
      v,
      rows !== undefined && rows.width === h ? rows : undefined,
      {
        bits: tie.bits,
        blockSize,
        method: method === "gptq" && (rows === undefined || rows.width !== h) ? "rtn" : method,
        ...(gemm !== undefined ? { matmul: gemm.matmul } : {}),
      },
    );
    const q = result.quantized;
    const perByte = 8 / tie.bits;
    const blocks = h / blockSize;
    const data = packLevels(q.levels, tie.bits);
    const zpWidth = Math.ceil(blocks / perByte);
    const zeroPoints = packZeroPoints(q.zeroPoints, v, blocks, tie.bits);
    const entry: SharedTable = {
      data: index.uniqueName(`${tie.table}_Q${tie.bits}`),
      scales: index.uniqueName(`${tie.table}_scales`),
      zeroPoints: index.uniqueName(`${tie.table}_zero_points`),
      v,
      h,
      blocks,
      zpWidth,
      bits: tie.bits,
      outputHalf: table.dataType === DataType.FLOAT16,
    };
    graph.initializer.push(
      makeTensor(entry.data, [v, h / perByte], data),
      scaleTensor(entry.scales, [v, blocks], q.scales, entry.outputHalf),
      makeTensor(entry.zeroPoints, [v, zpWidth], zeroPoints),
    );
    shared.set(tie.table, entry);
    return entry;
  }

  async function tiedGather(node: OnnxNode, tie: TiedHead): Promise<OnnxNode> {
    const t = await sharedTable(tie);
    return {
      name: index.uniqueName(`${node.name ?? "Gather"}_GatherBlockQuantized`),
      opType: "GatherBlockQuantized",
      domain: MS,
      input: [t.data, node.input[1] as string, t.scales, t.zeroPoints],
      output: [...node.output],
      attribute: attributes({ gather_axis: 0, quantize_axis: 1, block_size: blockSize, bits: t.bits }),
    };
  }

  /** The head reads the shared table through Reshapes onnxruntime folds at load (the file holds it once). */
  async function tiedMatMul(node: OnnxNode, tie: TiedHead): Promise<OnnxNode[]> {
    const t = await sharedTable(tie);
    const label = node.name ?? "MatMul";
    const blob = (blockSize * t.bits) / 8;
    const reshape = (input: string, dims: number[], what: string): OnnxNode => {
      const shape = index.uniqueName(`${label}_${what}_shape`);
      graph.initializer.push(makeInt64Tensor(shape, [dims.length], dims));
      return {
        name: index.uniqueName(`${label}_${what}_Reshape`),
        opType: "Reshape",
        input: [input, shape],
        output: [index.uniqueName(`${label}_${what}`)],
        attribute: [],
      };
    };
    const b = reshape(t.data, [t.v, t.blocks, blob], "B");
    const scales = reshape(t.scales, [t.v * t.blocks], "scales");
    const zeroPoints = reshape(t.zeroPoints, [t.v * t.zpWidth], "zero_points");
    return [
      b,
      scales,
      zeroPoints,
      {
        name: index.uniqueName(`${label}_MatMulNBits`),
        opType: "MatMulNBits",
        domain: MS,
        input: [node.input[0] as string, b.output[0], scales.output[0], zeroPoints.output[0]] as string[],
        output: [...node.output],
        attribute: attributes({ K: t.h, N: t.v, bits: t.bits, block_size: blockSize, ...accuracy }),
      },
    ];
  }

  /** int4 symmetric blocks along the weight's input-channel/K axis, behind DequantizeLinear-21. */
  function blockedInt4(node: OnnxNode, name: string, tensor: OnnxTensor): string {
    const dims = tensorDims(tensor);
    const op = node.opType ?? "";
    const axis = op === "Conv" ? 1 : op === "Gemm" && intAttribute(node, "transB", 0) === 1 ? 1 : 0;
    const data = readFloat32(tensor);
    const { min, max, groups } = blockMinMax(data, dims, axis, blockSize);
    const scheme = {
      dtype: "int4" as const,
      symmetric: true,
      granularity: "per-group" as const,
      axis,
      groupSize: blockSize,
    };
    const qparams = computeQParams(min, max, { scheme, convention: "onnxruntime" });
    const values = quantize(data, qparams, { shape: dims, convention: "onnxruntime" });
    const scaleDims = dims.map((d, i) => (i === axis ? groups : d));
    const valuesName = index.uniqueName(`${name}_quantized`);
    const scaleName = index.uniqueName(`${name}_scale`);
    graph.initializer.push(
      makeTensor(valuesName, dims, packInt4(values as Int8Array), DataType.INT4),
      scaleTensor(scaleName, scaleDims, qparams.scale, tensor.dataType === DataType.FLOAT16),
    );
    const output = index.uniqueName(`${name}_DequantizeLinear_Output`);
    out.push({
      name: index.uniqueName(`${name}_DequantizeLinear`),
      opType: "DequantizeLinear",
      input: [valuesName, scaleName],
      output: [output],
      attribute: attributes({ axis, block_size: blockSize }),
    });
    return output;
  }

  // GPTQ's Cholesky, inverse and error updates are GEMMs: onnxruntime's MLAS runs them.
  const gemm = bits === 4 && options.int4Method === "gptq" ? await onnxruntimeMatrixMultiply() : undefined;
  try {
    await processGraph(top, new Map());
  } finally {
    await gemm?.release();
  }
  pruneUnusedInitializers(top);
  pruneSubgraphInitializers(top);
  if (usesMicrosoft && !model.opsetImport.some((o) => o.domain === MS))
    model.opsetImport.push({ domain: MS, version: 1 });
  return {
    model,
    report: {
      approach: "weight-only",
      format: bits === 4 ? `int4 MatMulNBits (block ${blockSize})` : "int8 DequantizeLinear",
      quantizedNodes,
      floatNodes,
    },
  };
}

/** A float32 or float16 constant (float16 models keep float16 compute; their weights are read exactly). */
function isFloatWeight(t: OnnxTensor | undefined): t is OnnxTensor {
  return t !== undefined && (t.dataType === DataType.FLOAT || t.dataType === DataType.FLOAT16);
}

/**
 * Scales in the weight's float type: DequantizeLinear and MatMulNBits produce the scale's type, so a
 * float16 model's consumers keep receiving float16 (the scale rounds to half, a relative change
 * below 2^-11).
 */
function scaleTensor(name: string, dims: readonly number[], scale: ArrayLike<number>, half: boolean): OnnxTensor {
  return half
    ? makeTensor(name, dims, Uint16Array.from(scale as ArrayLike<number>, floatToHalf), DataType.FLOAT16)
    : makeTensor(name, dims, Float32Array.from(scale as ArrayLike<number>));
}

/** Drops initializers of If/Loop/Scan bodies that nothing in the body (or deeper) reads. */
function pruneSubgraphInitializers(graph: OnnxGraph): void {
  for (const node of graph.node)
    for (const a of node.attribute)
      for (const sub of [...(a.g ? [a.g] : []), ...(a.graphs ?? [])]) {
        pruneUnusedInitializers(sub);
        pruneSubgraphInitializers(sub);
      }
}

function unit(node: OnnxNode, name: string): boolean {
  const a = getAttribute(node, name);
  return a?.f === undefined || a.f === null || a.f === 1;
}

/** An output projection whose weight is an embedding table transposed. */
interface TiedHead {
  readonly node: OnnxNode;
  /** The Gather's table (the copy kept). */
  readonly table: string;
  /** 8 where the projection would be stored int8 (the default), else 4. */
  readonly bits: 4 | 8;
}

/** Names and layout of a tied table's one stored copy. */
interface SharedTable {
  readonly data: string;
  readonly scales: string;
  readonly zeroPoints: string;
  readonly v: number;
  readonly h: number;
  readonly blocks: number;
  readonly zpWidth: number;
  readonly bits: 4 | 8;
  readonly outputHalf: boolean;
}

/**
 * Tied heads of the main graph, by head weight name: a MatMul whose constant [H, V] weight is
 * exactly (bit for bit) the transpose of a constant [V, H] table read by a Gather on axis 0, both
 * selected for quantization, H a multiple of the block and the head not kept float. Compared
 * exactly, so only a real tie (an exporter's transposed copy) is shared, never a look-alike.
 */
function findTiedHeads(
  graph: OnnxGraph,
  options: WeightOnlyOptions,
  recipe: ReturnType<typeof recipeFromOptions>,
): Map<string, TiedHead> {
  const blockSize = options.blockSize ?? 32;
  const initializers = new Map(graph.initializer.map((t) => [t.name ?? "", t] as const));
  const outputs = new Set(graph.output.map((o) => o.name ?? ""));
  const tables = graph.node
    .filter(
      (n) =>
        n.opType === "Gather" &&
        (n.domain ?? "") === "" &&
        intAttribute(n, "axis", 0) === 0 &&
        options.int4Embeddings !== "int8" &&
        selectionReason(n, options, recipe) === undefined,
    )
    .map((n) => initializers.get(n.input[0] ?? ""))
    .filter((t): t is OnnxTensor => t?.dataType === DataType.FLOAT && tensorDims(t).length === 2);
  const found = new Map<string, TiedHead>();
  for (const node of graph.node) {
    if (node.opType !== "MatMul" || (node.domain ?? "") !== "" || selectionReason(node, options, recipe) !== undefined)
      continue;
    const layer = options.layerBits?.[node.name ?? ""];
    if (layer === 16) continue;
    const weight = initializers.get(node.input[1] ?? "");
    if (weight?.dataType !== DataType.FLOAT || tensorDims(weight).length !== 2) continue;
    const [h, v] = tensorDims(weight) as [number, number];
    if (h % blockSize !== 0) continue;
    // The head's values are read once, and only if some table has its transposed shape.
    let w: Float32Array | undefined;
    for (const table of tables) {
      const [tv, th] = tensorDims(table) as [number, number];
      if (tv !== v || th !== h || found.has(node.input[1] ?? "")) continue;
      w ??= readFloat32(weight);
      const t = readFloat32(table);
      let same = true;
      for (let i = 0; i < h && same; i++)
        for (let j = 0; j < v; j++)
          if (!Object.is(w[i * v + j], t[j * h + i])) {
            same = false;
            break;
          }
      if (!same) continue;
      const projection = outputs.has(node.output[0] ?? "") && options.int4OutputProjection !== "int4";
      const bits: 4 | 8 = layer === 8 || (layer === undefined && projection) ? 8 : 4;
      // At 4 bits the lookup is asymmetric round to nearest; a head quantized any other way wants
      // other levels (measured on the zoo GPT: GPTQ's head levels used for the lookup too raise
      // perplexity 19.511 -> 19.554), so only a head that would get the same levels is shared.
      const method = options.int4Method ?? "rtn";
      if (bits === 4 && (method !== "rtn" || options.int4Symmetric === true)) continue;
      found.set(node.input[1] ?? "", { node, table: table.name ?? "", bits });
    }
  }
  return found;
}
