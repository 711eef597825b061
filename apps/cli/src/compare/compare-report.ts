import type {
  AdapterModel,
  AdapterRegistry,
  LayerParams,
  QuantizerAdapter,
  QuantizeVariant,
  Recipe,
} from "@zeropoint/core";

/** One quantized build in the comparison. */
export interface CompareRow extends QuantizeVariant {
  readonly framework: string;
  readonly runtime: string;
  /** Set when this framework cannot take the model. */
  readonly unsupported?: string;
  readonly accuracy?: number;
  readonly top1Agreement?: number;
  /** Logit SQNR (dB) against the float model, over the evaluation set. */
  readonly sqnr?: number;
  readonly sizeBytes?: number;
  readonly sizeNote?: string;
  /** Milliseconds per image over the evaluation set. */
  readonly latencyMs?: number;
  readonly quantizeSeconds?: number;
  /** Per quantized layer (IR node): output scale and zero point, and weight SQNR when known. */
  readonly layers?: Readonly<Record<string, LayerParams>>;
}

/** One framework's float build in the comparison. */
export interface FloatRow {
  readonly framework: string;
  readonly runtime: string;
  readonly accuracy?: number;
  readonly maxLogitDifference?: number;
  readonly unsupported?: string;
}

/** The whole comparison. */
export interface CompareReport {
  readonly model: string;
  /** The shared static recipe: its name, calibration method and weight granularity. */
  readonly recipe: { name: string; method: string; perChannel: boolean };
  readonly samples: { calibration: number; evaluation: number };
  readonly float: FloatRow[];
  readonly floatAgree: boolean;
  readonly irError?: string;
  readonly layers: string[];
  readonly rows: CompareRow[];
  /** Float activation histograms of each quantized layer output, over the calibration set. */
  readonly histograms: { layer: string; min: number; max: number; counts: number[] }[];
}

/** Options of {@link compareModel}. */
export interface CompareOptions {
  readonly model: string;
  /** Calibration batches (floats of the model's one input, batch first). */
  readonly calibration: Float32Array[];
  /** Evaluation images and labels (labels optional: then only agreement and SQNR). */
  readonly evaluation: { images: Float32Array; labels?: Uint8Array; count: number };
  readonly onStep?: (label: string) => void;
  /** The shared static recipe (default: core's `static-default`); its calibration method and weight granularity apply to every framework. */
  readonly recipe?: Recipe;
  /** The model already loaded by its adapter (so a caller that read its inputs does not load it twice). */
  readonly source?: { readonly adapter: QuantizerAdapter; readonly model: AdapterModel };
  /** Where the adapters come from (default: core's registry, with the CLI's adapters registered). */
  readonly registry?: AdapterRegistry;
}
