import type { CalibrationBatch, CalibrationSource } from "../data/calibration-source.js";
import type { ModelInputSpec } from "../data/input-spec.js";
import type { TensorRecord } from "../data/named-tensor.js";
import type { IrGraph } from "../ir/model-graph.js";
import type { Approach, Recipe } from "../recipe/recipe.js";
import type { TuningAdapter } from "../tuning/tuner.js";

/**
 * The version of the adapter contract below. An adapter states the version it implements; the
 * registry refuses another, so a CLI and an adapter released apart fail with a clear message
 * instead of calling a method that is not there (vercel/ai's `specificationVersion` works so).
 */
export const ADAPTER_SPECIFICATION_VERSION = "v1" as const;

/** Output quantization parameters of one quantized layer, and its weight SQNR when known. */
export interface LayerParams {
  readonly scale: number;
  readonly zeroPoint: number;
  /** The activation dtype's integer range, for checks against core's conventions. */
  readonly qmin: number;
  readonly qmax: number;
  readonly weightSqnr?: number;
}

/** What a build's {@link ModelBuild.check} measures against a reference build on the same data. */
export interface BuildCheck {
  /** SQNR (dB) of this build's outputs against the reference's. */
  readonly sqnr: number;
  readonly top1Agreement: number;
  readonly maxAbsDifference: number;
  /** Rows (samples) compared. */
  readonly rows: number;
}

/** One way an adapter quantizes: the approach, its format, and what runs it. */
export interface QuantizeVariant {
  readonly approach: Approach;
  /** The adapter's name for it (`QDQ`, `eager`, `fake-quant`...), unique within the adapter. */
  readonly format: string;
  /** True when int8 arithmetic is emulated in float (the model stores float32). */
  readonly emulated: boolean;
}

/**
 * A runnable model in one framework: the float model as loaded, or a quantized build. Every build
 * answers the same questions, so `compare`, checks and reports need nothing framework-specific.
 */
export interface ModelBuild {
  readonly framework: string;
  readonly variant: QuantizeVariant | "float";
  /** What executes it (`onnxruntime-node 1.30 (cpu)`, `tfjs 4.22 (wasm)`...). */
  readonly runtime: string;
  /** Runs one batch (a tensor per model input, batch axis first); returns the first output, flattened. */
  predict(inputs: TensorRecord): Promise<Float32Array>;
  /** Bytes the build takes as deployed. */
  sizeBytes(): number;
  /** What {@link sizeBytes} counts, when it is not simply the saved file. */
  readonly sizeNote?: string;
  /** Per quantized layer, keyed by IR node name (empty for float and weight-only builds). */
  layerParams(): Readonly<Record<string, LayerParams>>;
  /** Compares this build's outputs with a reference build's on the data. */
  check(reference: ModelBuild, data: CalibrationSource): Promise<BuildCheck>;
  /**
   * Writes the build in its framework's format into a directory (created when missing), each file
   * atomically; returns the files written, the model file first (the one `load` takes). Absent when
   * the framework has no file format for it (PyTorch-style emulated modules live in memory).
   */
  save?(directory: string): Promise<string[]>;
}

/** A model an adapter loaded or built from IR. */
export interface AdapterModel {
  readonly framework: string;
  /** The file it came from, or `ir:<graph name>`. */
  readonly source: string;
  /** Every file the model was read from (the model and its weight files), so outputs never overwrite one. */
  readonly files: readonly string[];
  readonly inputs: readonly ModelInputSpec[];
  /** The model as neutral IR, when it fits; other adapters build their float model from it. */
  readonly ir: IrGraph | undefined;
  /** Why the model is not expressible as IR (one line naming the node and op). */
  readonly irError: string | undefined;
  /** The float model, runnable. */
  readonly float: ModelBuild;
  /** The framework's own model object, for the adapter that made it. */
  readonly native: unknown;
}

/** Data a quantization reads. */
export interface QuantizeData {
  /** Calibration batches for static quantization (ignored by data-free approaches). */
  readonly calibration?: CalibrationSource;
}

/** Evaluation batches a tuner scores plans on: labelled (accuracy) or not (agreement with float). */
export interface EvaluationBatches {
  readonly batches: readonly CalibrationBatch[];
  readonly labels?: Uint8Array;
}

/** Options of {@link QuantizerAdapter.quantize}. */
export interface QuantizeRequest {
  /** Which of the adapter's {@link QuantizerAdapter.variants} for the recipe's approach (default: the first). */
  readonly format?: string;
}

/**
 * The contract between the framework-neutral core and one framework. The CLI's `compare`, the
 * conformance suite and the support matrix read adapters only through it; adding a framework is
 * one package implementing it plus one registration line in the application that loads it.
 */
export interface QuantizerAdapter {
  readonly specificationVersion: typeof ADAPTER_SPECIFICATION_VERSION;
  /** `onnx`, `torch`, `tfjs`... unique in a registry. */
  readonly framework: string;
  /** The ways it quantizes, in the order `compare` shows them. */
  readonly variants: readonly QuantizeVariant[];
  /** True when {@link load} takes this file (by name or a bounded look at its head; never a full read). */
  canLoad(source: string): boolean;
  load(source: string): Promise<AdapterModel>;
  /** Builds the float model in this framework from IR; `unsupported-op` naming the node when it cannot. */
  fromIr(ir: IrGraph): Promise<AdapterModel>;
  /**
   * Quantizes with the recipe's approach, calibration method and weight granularity applied on top
   * of the framework's native scheme (PyTorch's x86 qconfig, onnxruntime's quantizer, TFMOT's scheme).
   */
  quantize(model: AdapterModel, recipe: Recipe, data: QuantizeData, request?: QuantizeRequest): Promise<ModelBuild>;
  /**
   * Float values of IR tensors (by name) over the data, concatenated per tensor; optional, for
   * reports (activation histograms).
   */
  /**
   * Optional: per-node accuracy-aware tuning. Returns core's {@link TuningAdapter} for the model
   * (static quantization with the recipe, each plan scored on the evaluation batches), which
   * core's `tune` drives.
   */
  tuning?(
    model: AdapterModel,
    data: { readonly calibration: CalibrationSource; readonly evaluation: EvaluationBatches },
    recipe?: Recipe,
  ): Promise<TuningAdapter>;
  activations?(
    model: AdapterModel,
    tensors: readonly string[],
    data: CalibrationSource,
  ): Promise<Map<string, Float32Array>>;
}
