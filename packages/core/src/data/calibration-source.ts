import { ZeropointError } from "../errors/zeropoint-error.js";
import type { NamedTensor } from "./named-tensor.js";

/**
 * One tensor of a batch: a typed {@link NamedTensor}, or float32 data without a dtype (the common
 * case, kept so float32 callers need not spell it).
 */
export type CalibrationTensor =
  | NamedTensor
  | { readonly dtype?: undefined; readonly data: Float32Array; readonly dims: readonly number[] };

/**
 * One batch: a tensor per model input, laid out as the model declares (its own batch axis). Any
 * number of inputs of any dtype; every adapter reads the same batches.
 */
export type CalibrationBatch = Readonly<Record<string, CalibrationTensor>>;

/** The batch tensor as a typed tensor (float32 when it carries no dtype). */
export function asNamedTensor(t: CalibrationTensor): NamedTensor {
  return t.dtype === undefined ? { dtype: "float32", data: t.data, dims: t.dims } : t;
}

/**
 * Calibration (or evaluation) data: a function that starts a fresh pass over the same batches each
 * time it is called (two-pass calibrators read the data twice). Nothing is kept between batches,
 * so memory does not grow with the number of samples.
 */
export type CalibrationSource = () => AsyncIterable<CalibrationBatch> | Iterable<CalibrationBatch>;

/** Wraps an in-memory list of batches as a {@link CalibrationSource}. */
export function calibrationSourceFromBatches(batches: readonly CalibrationBatch[]): CalibrationSource {
  return () => batches;
}

/** Iterates a source, sync or async; a source that throws when started gets `invalid-calibration-data`. */
export async function* iterateSource(source: CalibrationSource): AsyncGenerator<CalibrationBatch> {
  let iterable: AsyncIterable<CalibrationBatch> | Iterable<CalibrationBatch>;
  try {
    iterable = source();
  } catch (cause) {
    throw new ZeropointError(
      "invalid-calibration-data",
      `calibration source failed to start: ${(cause as Error).message}`,
      { cause },
    );
  }
  for await (const batch of iterable as AsyncIterable<CalibrationBatch>) yield batch;
}
