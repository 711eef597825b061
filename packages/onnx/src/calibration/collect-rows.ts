import { ZeropointError } from "@zeropoint/core";
import { modelInputSpecs } from "../model/input-specs.js";
import type { OnnxModel } from "../model/onnx-schema.js";
import { loadOnnxruntime } from "../runtime/onnxruntime.js";
import { sessionModel } from "../runtime/session-model.js";
import { exposeTensors, makeFeeds, outputAsFloat32 } from "./calibrate.js";
import { type CalibrationSource, iterateSource } from "./calibration-source.js";

/**
 * Rows of float activations (the last axis is a row, every leading axis flattened) of `tensors`,
 * from running the float model on the calibration data: what data-aware weight methods (AWQ) fit
 * their scales on. At most `maxRows` rows per tensor are kept, taken evenly from every batch seen
 * in one pass, so memory is bounded by `maxRows x width` per tensor, not by the data set.
 */
export async function collectActivationRows(
  model: OnnxModel,
  tensors: readonly string[],
  source: CalibrationSource,
  maxRows: number,
): Promise<Map<string, { rows: Float32Array; count: number; width: number }>> {
  const ort = await loadOnnxruntime();
  const specs = modelInputSpecs(model);
  // A lazily loaded model runs from its data files (sessionModel), so any size calibrates.
  const opened = sessionModel(exposeTensors(model, [...tensors]));
  let session: Awaited<ReturnType<typeof ort.InferenceSession.create>>;
  try {
    session = await ort.InferenceSession.create(opened.source as never, { executionProviders: ["cpu"] });
  } finally {
    opened.dispose();
  }
  const kept = new Map<string, { parts: Float32Array[]; count: number; width: number }>();
  try {
    let index = 0;
    for await (const batch of iterateSource(source)) {
      const results = await session.run(makeFeeds(ort, specs, batch, index, undefined) as never, [...tensors]);
      index++;
      for (const name of tensors) {
        const value = results[name] as unknown as { type: string; data: unknown; dims: readonly number[] };
        const data = outputAsFloat32(value, name);
        const width = value.dims[value.dims.length - 1] ?? 1;
        const entry = kept.get(name) ?? { parts: [], count: 0, width };
        const available = data.length / width;
        const take = Math.min(available, maxRows - entry.count);
        if (take <= 0) continue;
        // Evenly spaced rows of this batch (not just its first positions of its first sample).
        const part = new Float32Array(take * width);
        for (let r = 0; r < take; r++) {
          const from = Math.floor((r * available) / take);
          part.set(data.subarray(from * width, (from + 1) * width), r * width);
        }
        entry.parts.push(part);
        entry.count += take;
        kept.set(name, entry);
      }
    }
  } finally {
    await session.release();
  }
  const out = new Map<string, { rows: Float32Array; count: number; width: number }>();
  for (const [name, e] of kept) {
    const rows = new Float32Array(e.count * e.width);
    let at = 0;
    for (const p of e.parts) {
      rows.set(p, at);
      at += p.length;
    }
    out.set(name, { rows, count: e.count, width: e.width });
  }
  if (out.size === 0 && tensors.length > 0)
    throw new ZeropointError("invalid-calibration-data", "AWQ: the calibration data yielded no batches");
  return out;
}
