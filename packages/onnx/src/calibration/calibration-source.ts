import { asNamedTensor, type CalibrationBatch } from "@zeropoint/core";
import type { loadOnnxruntime } from "../runtime/onnxruntime.js";

type Ort = Awaited<ReturnType<typeof loadOnnxruntime>>;

// The batch and source types are framework-neutral and live in core; re-exported here so code
// written against `@zeropoint/onnx`'s earlier exports keeps compiling.
export {
  asNamedTensor,
  type CalibrationBatch,
  type CalibrationSource,
  type CalibrationTensor,
  calibrationSourceFromBatches,
  iterateSource,
} from "@zeropoint/core";

/**
 * A batch as onnxruntime feeds, each tensor in its own dtype (int64 ids stay int64). For checked
 * feeds against a model's declared inputs, calibrate's `makeFeeds` is the one to use.
 */
export function batchToFeeds(ort: Ort, batch: CalibrationBatch): Record<string, InstanceType<Ort["Tensor"]>> {
  return Object.fromEntries(
    Object.entries(batch).map(([k, raw]) => {
      const t = asNamedTensor(raw);
      return [k, new ort.Tensor(t.dtype, t.data as never, [...t.dims])];
    }),
  );
}
