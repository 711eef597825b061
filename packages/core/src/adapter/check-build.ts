import {
  asNamedTensor,
  type CalibrationBatch,
  type CalibrationSource,
  iterateSource,
} from "../data/calibration-source.js";
import type { TensorRecord } from "../data/named-tensor.js";
import { agreement, maxAbsDifference, top1 } from "../metrics/classification.js";
import type { BuildCheck, ModelBuild } from "./quantizer-adapter.js";

/** A batch as the typed record builds take. */
export function batchRecord(batch: CalibrationBatch): TensorRecord {
  return Object.fromEntries(Object.entries(batch).map(([k, t]) => [k, asNamedTensor(t)]));
}

/**
 * The check every build's `check` performs: run both builds on every batch, then SQNR, top-1
 * agreement (rows = leading dim of the first input) and the largest difference over all outputs.
 * Signal and noise energies are summed over batches, so the SQNR is that of the whole set, not a
 * mean of per-batch figures.
 */
export async function checkBuild(
  candidate: ModelBuild,
  reference: ModelBuild,
  data: CalibrationSource,
): Promise<BuildCheck> {
  let signal = 0;
  let noise = 0;
  let same = 0;
  let rows = 0;
  let worst = 0;
  for await (const batch of iterateSource(data)) {
    const record = batchRecord(batch);
    const n = Object.values(record)[0]?.dims[0] ?? 1;
    const want = await reference.predict(record);
    const got = await candidate.predict(record);
    for (let i = 0; i < want.length; i++) {
      const w = want[i] as number;
      const d = (got[i] as number) - w;
      signal += w * w;
      noise += d * d;
    }
    // maxAbsDifference is NaN for a length mismatch, and NaN stays NaN through Math.max.
    worst = Math.max(worst, maxAbsDifference(want, got));
    same += agreement(top1(want, n), top1(got, n)) * n;
    rows += n;
  }
  const sqnr = noise === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10(signal / noise);
  return { sqnr, top1Agreement: rows === 0 ? 1 : same / rows, maxAbsDifference: worst, rows };
}
