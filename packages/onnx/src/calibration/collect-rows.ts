import { ZeropointError } from "@zeropoint/core";
import { modelInputSpecs } from "../model/input-specs.js";
import type { OnnxModel } from "../model/onnx-schema.js";
import { loadOnnxruntime } from "../runtime/onnxruntime.js";
import { sessionModel } from "../runtime/session-model.js";
import { exposeTensors, makeFeeds, outputAsFloat32 } from "./calibrate.js";
import { type CalibrationBatch, type CalibrationSource, iterateSource } from "./calibration-source.js";

/**
 * Rows of float activations (the last axis is a row, every leading axis flattened) of `tensors`,
 * from running the float model on the calibration data: what data-aware weight methods (AWQ, GPTQ,
 * mixed precision) fit on. At most `maxRows` rows per tensor are kept, a uniform sample of every
 * row of every batch in one pass, so memory is bounded by `maxRows x width` per tensor, not by the
 * data set.
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
  // A uniform sample of every row seen (reservoir sampling, Algorithm R, with a fixed-seed LCG so a
  // run is reproducible): memory is maxRows x width per tensor however much data passes.
  const kept = new Map<string, { rows: Float32Array; count: number; seen: number; width: number }>();
  let seed = 0x2545f491;
  const random = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 4294967296;
  };
  try {
    let index = 0;
    for await (const batch of iterateSource(source)) {
      const results = await session.run(makeFeeds(ort, specs, batch, index, undefined) as never, [...tensors]);
      index++;
      for (const name of tensors) {
        const value = results[name] as unknown as { type: string; data: unknown; dims: readonly number[] };
        const data = outputAsFloat32(value, name);
        const width = value.dims[value.dims.length - 1] ?? 1;
        let entry = kept.get(name);
        if (entry === undefined) {
          entry = { rows: new Float32Array(maxRows * width), count: 0, seen: 0, width };
          kept.set(name, entry);
        }
        const available = data.length / width;
        const padding = paddingRows(batch, available);
        for (let r = 0; r < available; r++) {
          // Padded positions never reach the output through attention: fitting on them is noise.
          if (padding?.[r] === 1) continue;
          let slot = entry.seen;
          if (slot >= maxRows) slot = Math.floor(random() * (entry.seen + 1));
          entry.seen++;
          if (slot >= maxRows) continue;
          entry.rows.set(data.subarray(r * width, (r + 1) * width), slot * width);
          if (slot === entry.count) entry.count++;
        }
      }
    }
  } finally {
    await session.release();
  }
  const out = new Map<string, { rows: Float32Array; count: number; width: number }>();
  for (const [name, e] of kept)
    out.set(name, { rows: e.rows.subarray(0, e.count * e.width), count: e.count, width: e.width });
  if (out.size === 0 && tensors.length > 0)
    throw new ZeropointError("invalid-calibration-data", "AWQ: the calibration data yielded no batches");
  return out;
}

/**
 * Which of a tensor's `rows` are padding, from the batch's `attention_mask` (the transformers
 * convention: [batch, sequence], 0 at padded positions) when the tensor has exactly one row per
 * position, as every token-wise activation does; undefined when there is no such mask or the rows
 * do not line up with it (the tensor is then sampled whole).
 */
function paddingRows(batch: CalibrationBatch, rows: number): Uint8Array | undefined {
  const mask = batch.attention_mask;
  if (mask === undefined || mask.dims.length !== 2 || (mask.dims[0] as number) * (mask.dims[1] as number) !== rows)
    return undefined;
  const out = new Uint8Array(rows);
  const data = mask.data as ArrayLike<number | bigint>;
  for (let i = 0; i < rows; i++) if (Number(data[i]) === 0) out[i] = 1;
  return out;
}
