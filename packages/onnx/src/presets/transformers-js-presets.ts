import { ZeropointError } from "@zeropoint/core";
import type { CalibrationSource } from "../calibration/calibration-source.js";
import { convertToFloat16, type Float16Report } from "../convert/float16-convert.js";
import { forEachGraph } from "../graph/subgraphs.js";
import { loadModel } from "../model/model-io.js";
import type { OnnxModel } from "../model/onnx-schema.js";
import { quantizeBnb4 } from "../quantize/quantize-bnb4.js";
import { quantizeDynamic } from "../quantize/quantize-dynamic.js";
import { type MixedOptions, type MixedReport, quantizeMixed } from "../quantize/quantize-mixed.js";
import type { QuantizeReport } from "../quantize/quantize-static.js";
import { quantizeWeightOnly, type WeightOnlyOptions } from "../quantize/quantize-weight-only.js";

/** A transformers.js `dtype`, with the file suffix it loads and what zeropoint writes for it. */
export interface TransformersJsPreset {
  /** `onnx/<name><suffix>.onnx` is what transformers.js opens for this dtype. */
  readonly suffix: string;
  /** What the file holds, for the README and `--help`. */
  readonly summary: string;
}

/**
 * The transformers.js dtypes zeropoint writes (one table: the CLI, the README and the tests read
 * it). File names follow transformers.js: `q8` loads `<name>_quantized.onnx`, the others
 * `<name>_<dtype>.onnx`.
 */
export const TRANSFORMERS_JS_PRESETS = {
  q8: {
    suffix: "_quantized",
    summary:
      "dynamic int8 (MatMulInteger/ConvInteger, activations quantized at run time); weights uint8 when the model has Conv, because onnxruntime-web has no signed ConvInteger, int8 otherwise",
  },
  int8: { suffix: "_int8", summary: "dynamic quantization with int8 weights" },
  uint8: {
    suffix: "_uint8",
    summary: "dynamic quantization with uint8 weights (runs everywhere onnxruntime-web does)",
  },
  fp16: {
    suffix: "_fp16",
    summary:
      "float16 weights and compute, float32 inputs/outputs with Casts at the edges; ops of the block list (TopK, Resize, CumSum, ...) and constants beyond ±65504 stay float32",
  },
  q4: {
    suffix: "_q4",
    summary:
      "int4 MatMulNBits (block 32, asymmetric) for MatMul/Gemm: GPTQ with --calib-data, HQQ without; embeddings 4-bit GatherBlockQuantized, recurrent weights and the output projection int8 behind DequantizeLinear; a tied embedding/output projection is stored once (8-bit blocks read by both)",
  },
  q4f16: { suffix: "_q4f16", summary: "q4, then the rest converted as fp16" },
  bnb4: {
    suffix: "_bnb4",
    summary:
      "NF4 (bitsandbytes' 4-bit NormalFloat) com.microsoft MatMulBnb4 for MatMul, absmax blocks of 64; the rest float32, as onnxruntime's MatMulBnb4Quantizer, and the output projection too, as bitsandbytes keeps lm_head",
  },
} as const satisfies Record<string, TransformersJsPreset>;

/** A preset name. */
export type TransformersJsPresetName = keyof typeof TRANSFORMERS_JS_PRESETS;

/** Every preset, in the order `--preset all` writes them. */
export const TRANSFORMERS_JS_PRESET_NAMES = Object.keys(TRANSFORMERS_JS_PRESETS) as TransformersJsPresetName[];

/** Options of {@link quantizePreset}. */
export interface PresetOptions {
  /** q4/q4f16: activations for GPTQ/AWQ; without it q4 uses data-free HQQ. */
  readonly calibrationData?: CalibrationSource;
  /** q4/q4f16: block length along K (default 32, as transformers.js); bnb4: absmax block (default 64). */
  readonly blockSize?: number;
  /** q4/q4f16: overrides the int4 method chosen from the data. */
  readonly int4Method?: WeightOnlyOptions["int4Method"];
  /** q4/q4f16: MatMulNBits `accuracy_level` (4: int8 activations, the fast CPU path). */
  readonly accuracyLevel?: WeightOnlyOptions["accuracyLevel"];
  /** fp16/q4f16: more op types kept float32. */
  readonly float16OpBlockList?: readonly string[];
  /**
   * q4/q4f16: mixed precision ({@link quantizeMixed}): the MatMuls most sensitive on the
   * calibration data (required) go to 8-bit MatMulNBits or float within the size budget.
   */
  readonly mixed?: Pick<MixedOptions, "maxSize" | "targetError" | "bits">;
}

/** What {@link quantizePreset} did. */
export interface PresetReport {
  readonly preset: TransformersJsPresetName;
  /** The quantization step's report (absent for fp16, which quantizes nothing). */
  readonly quantize?: QuantizeReport;
  /** The float16 step's report (fp16, q4f16). */
  readonly float16?: Float16Report;
  /** Choices made from the model, in words (weight type, int4 method). */
  readonly choices: readonly string[];
  /** q4/q4f16 with `mixed`: the bits chosen per layer and the sizes behind the choice. */
  readonly mixed?: Pick<MixedReport, "layers" | "int4Bytes" | "budgetBytes">;
}

/** Op types that make `q8` pick uint8 weights (transformers.js' rule: no signed ConvInteger on the web). */
const UINT8_WEIGHT_OPS = new Set(["Conv", "GroupQueryAttention", "MultiHeadAttention"]);

/** Produces one transformers.js file from a float32 model. The input is not modified. */
export async function quantizePreset(
  input: OnnxModel | string | Uint8Array,
  preset: TransformersJsPresetName,
  options: PresetOptions = {},
): Promise<{ model: OnnxModel; report: PresetReport }> {
  if (!(preset in TRANSFORMERS_JS_PRESETS))
    throw new ZeropointError(
      "invalid-argument",
      `unknown preset ${preset}; one of ${TRANSFORMERS_JS_PRESET_NAMES.join(", ")}`,
    );
  // Read only here; each step below works on its own copy.
  const model = typeof input === "object" && !(input instanceof Uint8Array) ? input : loadModel(input).model;
  const choices: string[] = [];
  if (preset === "q8" || preset === "int8" || preset === "uint8") {
    let weightType: "int8" | "uint8" = preset === "uint8" ? "uint8" : "int8";
    if (preset === "q8") {
      const ops = new Set<string>();
      if (model.graph)
        forEachGraph(model.graph, (g) => {
          for (const n of g.node) ops.add(n.opType ?? "");
        });
      const found = [...ops].filter((op) => UINT8_WEIGHT_OPS.has(op));
      if (found.length > 0) {
        weightType = "uint8";
        choices.push(`uint8 weights (the model has ${found.join(", ")}; onnxruntime-web has no signed ConvInteger)`);
      } else choices.push("int8 weights (no Conv)");
    }
    const { model: out, report } = await quantizeDynamic(model, { weightType, reduceRange: false });
    return { model: out, report: { preset, quantize: report, choices } };
  }
  if (preset === "bnb4") {
    const { model: out, report } = quantizeBnb4(model, { blockSize: options.blockSize ?? 64 });
    return { model: out, report: { preset, quantize: report, choices } };
  }
  if (preset === "fp16") {
    const { model: out, report } = convertToFloat16(model, float16Options(options));
    return { model: out, report: { preset, float16: report, choices } };
  }
  const method = options.int4Method ?? (options.calibrationData !== undefined ? "gptq" : "hqq");
  choices.push(
    options.int4Method !== undefined
      ? `int4 method ${method}`
      : method === "gptq"
        ? "int4 GPTQ (calibration data given)"
        : "int4 HQQ (no calibration data; --calib-data selects GPTQ)",
  );
  const common = {
    blockSize: options.blockSize ?? 32,
    int4Method: method,
    ...(options.accuracyLevel !== undefined ? { accuracyLevel: options.accuracyLevel } : {}),
  };
  let q4: OnnxModel;
  let report: QuantizeReport;
  let mixed: PresetReport["mixed"];
  if (options.mixed !== undefined) {
    if (options.calibrationData === undefined)
      throw new ZeropointError("invalid-argument", "mixed precision ranks layers on calibration data (--calib-data)");
    const result = await quantizeMixed(model, {
      ...common,
      ...options.mixed,
      calibrationData: options.calibrationData,
    });
    q4 = result.model;
    report = result.report;
    mixed = {
      layers: result.report.layers,
      int4Bytes: result.report.int4Bytes,
      budgetBytes: result.report.budgetBytes,
    };
    const count = (b: number) => result.report.layers.filter((l) => l.bits === b).length;
    choices.push(
      `mixed precision: ${count(4)} MatMuls int4, ${count(8)} 8-bit, ${count(16)} float (budget ${result.report.budgetBytes} bytes, all-int4 ${result.report.int4Bytes})`,
    );
  } else {
    ({ model: q4, report } = await quantizeWeightOnly(model, {
      ...common,
      weightType: "int4",
      ...(options.calibrationData !== undefined ? { calibrationData: options.calibrationData } : {}),
    }));
  }
  const extra = mixed !== undefined ? { mixed } : {};
  if (preset === "q4") return { model: q4, report: { preset, quantize: report, choices, ...extra } };
  const { model: out, report: half } = convertToFloat16(q4, float16Options(options));
  return { model: out, report: { preset, quantize: report, float16: half, choices, ...extra } };
}

function float16Options(options: PresetOptions) {
  return options.float16OpBlockList !== undefined ? { opBlockList: options.float16OpBlockList } : {};
}
