import { ZeropointError } from "../errors/zeropoint-error.js";
import type { TensorDtype } from "./named-tensor.js";

/**
 * A model input as the model declares it: dtype, dims (a string is a symbolic dim) and which axis
 * is the batch. Adapters derive it from the model; data sources and checks read only this.
 */
export interface ModelInputSpec {
  readonly name: string;
  readonly dtype: TensorDtype;
  readonly dims: readonly (number | string)[];
  /**
   * The axis samples are stacked on. Symbolic when the model takes any batch; a fixed dim (often 1)
   * when the model was exported for one batch size; undefined when the input has no batch axis
   * (a constant such as a sample rate, fed unchanged to every batch).
   */
  readonly batchAxis: number | undefined;
  /** For integer id inputs feeding an embedding table: the table's row count (valid ids are below it). */
  readonly vocabSize?: number;
  /**
   * The model declares no shape for this input (valid ONNX): `dims` is empty, samples of any rank
   * are accepted and stacked on a new axis 0, and synthetic data needs `--input-shape`.
   */
  readonly shapeUnknown?: boolean;
}

/** The batch size a model fixes (e.g. 1 for a batch-1 export), or undefined when the batch is symbolic. */
export function fixedBatchSize(specs: readonly ModelInputSpec[]): number | undefined {
  for (const s of specs) {
    if (s.batchAxis === undefined) continue;
    const d = s.dims[s.batchAxis];
    if (typeof d === "number" && d > 0) return d;
  }
  return undefined;
}

/**
 * The dims of one sample of `spec`: the model's dims without the batch axis, with symbolic dims
 * taken from `pinned` (e.g. `--input-shape`, full rank) or `fallback` (a default sequence length
 * for synthetic data). A symbolic dim nobody can tell is an error naming the input and axis.
 */
export function sampleDims(spec: ModelInputSpec, pinned: readonly number[] | undefined, fallback?: number): number[] {
  if (spec.shapeUnknown) {
    if (pinned === undefined)
      throw new ZeropointError(
        "invalid-argument",
        `input ${spec.name} declares no shape and no data tells it; give it with --input-shape ${spec.name}=<d0,d1,...>`,
        { details: { input: spec.name } },
      );
    return pinned.slice(1);
  }
  if (pinned !== undefined && pinned.length !== spec.dims.length) {
    throw new ZeropointError(
      "invalid-argument",
      `--input-shape ${spec.name} has rank ${pinned.length}, the model input has rank ${spec.dims.length}`,
    );
  }
  const out: number[] = [];
  spec.dims.forEach((d, axis) => {
    if (axis === spec.batchAxis) return;
    const fixed = pinned?.[axis];
    if (fixed !== undefined) {
      if (typeof d === "number" && d > 0 && d !== fixed) {
        throw new ZeropointError(
          "invalid-argument",
          `--input-shape ${spec.name}: axis ${axis} is ${fixed} but the model fixes it to ${d}`,
        );
      }
      out.push(fixed);
    } else if (typeof d === "number" && d > 0) out.push(d);
    else if (fallback !== undefined) out.push(fallback);
    else {
      throw new ZeropointError(
        "invalid-argument",
        `input ${spec.name} has a symbolic dim ${JSON.stringify(d)} at axis ${axis} and no data tells its size; fix it with --input-shape ${spec.name}=<d0,d1,...>`,
        { details: { input: spec.name, axis } },
      );
    }
  });
  return out;
}
