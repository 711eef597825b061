import { ZeropointError } from "@zeropoint/core";

/** One calibration batch: float32 data and dims per model input. */
export type CalibrationBatch = Readonly<
  Record<string, { readonly data: Float32Array; readonly dims: readonly number[] }>
>;

/**
 * Calibration data: a function that starts a fresh pass over the same batches each time it is
 * called (two-pass calibrators read the data twice). Nothing is kept between batches.
 */
export type CalibrationSource = () => AsyncIterable<CalibrationBatch> | Iterable<CalibrationBatch>;

/** Wraps an in-memory list of batches as a {@link CalibrationSource}. */
export function calibrationSourceFromBatches(batches: readonly CalibrationBatch[]): CalibrationSource {
  return () => batches;
}

/** Iterates a source, sync or async. */
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
