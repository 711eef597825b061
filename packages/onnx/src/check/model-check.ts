import { batchRows, OutputComparison, type OutputComparisonResult, sqnr, ZeropointError } from "@zeropoint/core";
import { exposeTensors, makeFeeds, outputAsFloat32 } from "../calibration/calibrate.js";
import type { CalibrationBatch } from "../calibration/calibration-source.js";
import { modelInputSpecs } from "../model/input-specs.js";
import { lazyExternalRange } from "../model/lazy-external.js";
import { encodeModel, forEachTensor } from "../model/model-io.js";
import type { OnnxModel } from "../model/onnx-schema.js";
import type { ActivationParams } from "../quantize/static-plan.js";
import { loadOnnxruntime } from "../runtime/onnxruntime.js";
import { sessionModel } from "../runtime/session-model.js";

/** What {@link checkQuantizedModel} reports. */
export interface ModelCheck {
  /**
   * Each graph output against the float model over every check sample: SQNR (dB), cosine, and the
   * agreement that fits the output (argmax for class vectors, the 0.5 decision for probabilities).
   */
  readonly outputs: OutputComparisonResult[];
  /** SQNR (dB) of each quantized activation against the same tensor of the float model. */
  readonly tensors: { name: string; sqnr: number }[];
  /**
   * Agreement of the first output that has one (argmax for a class vector, the 0.5 decision for a
   * probability); undefined when no output is either, rather than a vacuous 100%.
   */
  readonly top1Agreement: number | undefined;
  readonly floatBytes: number;
  readonly quantizedBytes: number;
  readonly floatOps: Record<string, number>;
  readonly quantizedOps: Record<string, number>;
  readonly samples: number;
}

function opCounts(model: OnnxModel): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const n of model.graph?.node ?? []) {
    const key = n.domain ? `${n.domain}.${n.opType}` : (n.opType ?? "");
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/**
 * Runs the quantized model beside the float one in onnxruntime-node on a few samples and measures
 * how far apart they are: SQNR per graph output and per quantized activation (read from the
 * dequantized tensor in QDQ models, or dequantized here from the 8-bit tensor in QOperator models),
 * top-1 agreement, sizes and op counts. Proves the written model loads and runs.
 */
export async function checkQuantizedModel(
  floatModel: OnnxModel,
  quantizedModel: OnnxModel,
  samples: readonly CalibrationBatch[],
  activations: Readonly<Record<string, ActivationParams>> = {},
): Promise<ModelCheck> {
  if (samples.length === 0)
    throw new ZeropointError("invalid-calibration-data", "the model check needs at least one sample");
  const ort = await loadOnnxruntime();
  const outputs = (floatModel.graph?.output ?? []).map((o) => o.name ?? "");
  const quantizedNames = new Set<string>();
  for (const n of quantizedModel.graph?.node ?? []) for (const o of n.output) quantizedNames.add(o);
  // Where each activation's value lives in the quantized model.
  const probes: { tensor: string; name: string; params?: ActivationParams }[] = [];
  for (const [tensor, p] of Object.entries(activations)) {
    if (outputs.includes(tensor)) continue;
    if (quantizedNames.has(`${tensor}_DequantizeLinear_Output`))
      probes.push({ tensor, name: `${tensor}_DequantizeLinear_Output` });
    else if (quantizedNames.has(`${tensor}_quantized`)) probes.push({ tensor, name: `${tensor}_quantized`, params: p });
    else if (quantizedNames.has(tensor)) probes.push({ tensor, name: tensor });
  }
  // Models with external data left in their files (loadModel's lazy mode) open from those files
  // (sessionModel); sizes count the data files too.
  const floatSource = sessionModel(
    exposeTensors(
      floatModel,
      probes.map((p) => p.tensor),
    ),
  );
  const quantizedSource = sessionModel(
    exposeTensors(
      quantizedModel,
      probes.map((p) => p.name),
    ),
  );
  const options = { executionProviders: ["cpu"], intraOpNumThreads: 1 } as const;
  let floatSession: Awaited<ReturnType<typeof ort.InferenceSession.create>>;
  let quantSession: Awaited<ReturnType<typeof ort.InferenceSession.create>>;
  try {
    try {
      floatSession = await ort.InferenceSession.create(floatSource.source as never, options);
    } catch (cause) {
      throw new ZeropointError(
        "invalid-model",
        `onnxruntime cannot load the float model: ${(cause as Error).message}`,
        { cause },
      );
    }
    try {
      quantSession = await ort.InferenceSession.create(quantizedSource.source as never, options);
    } catch (cause) {
      await floatSession.release();
      throw new ZeropointError(
        "invalid-model",
        `onnxruntime cannot load the quantized model: ${(cause as Error).message}`,
        { cause },
      );
    }
  } finally {
    floatSource.dispose();
    quantizedSource.dispose();
  }
  const specs = modelInputSpecs(floatModel);
  const comparisons = new Map(outputs.map((o) => [o, new OutputComparison(o)]));
  const reference = new Map<string, number[]>();
  const approx = new Map<string, number[]>();
  let rows = 0;
  const push = (map: Map<string, number[]>, key: string, values: ArrayLike<number>) => {
    const list = map.get(key) ?? [];
    for (let i = 0; i < values.length; i++) list.push(values[i] as number);
    map.set(key, list);
  };
  try {
    for (const [index, batch] of samples.entries()) {
      const feeds = makeFeeds(ort, specs, batch, index, undefined, "check batch");
      const f = await runChecked(floatSession, feeds, "float");
      const q = await runChecked(quantSession, feeds, "quantized");
      for (const o of outputs) {
        const fo = f[o] as { type: string; data: unknown; dims: readonly number[] };
        const qo = q[o] as { type: string; data: unknown };
        (comparisons.get(o) as OutputComparison).add(outputAsFloat32(fo, o), outputAsFloat32(qo, o), fo.dims);
      }
      for (const p of probes) {
        push(reference, p.tensor, outputAsFloat32(f[p.tensor] as { type: string; data: unknown }, p.tensor));
        const raw = (q[p.name] as { data: ArrayLike<number> }).data;
        const values =
          p.params === undefined
            ? outputAsFloat32(q[p.name] as { type: string; data: unknown }, p.name)
            : Float32Array.from(
                raw as ArrayLike<number>,
                (v) => (v - (p.params as ActivationParams).zeroPoint) * (p.params as ActivationParams).scale,
              );
        push(approx, p.tensor, values);
      }
      rows += batchRows(batch, specs);
    }
  } finally {
    await floatSession.release();
    await quantSession.release();
  }
  const results = outputs.map((o) => (comparisons.get(o) as OutputComparison).result());
  return {
    outputs: results,
    tensors: probes.map((p) => ({
      name: p.tensor,
      sqnr: sqnr(reference.get(p.tensor) ?? [], approx.get(p.tensor) ?? []),
    })),
    top1Agreement: results.find((r) => r.agreement !== undefined)?.agreement,
    floatBytes: modelByteSize(floatModel),
    quantizedBytes: modelByteSize(quantizedModel),
    floatOps: opCounts(floatModel),
    quantizedOps: opCounts(quantizedModel),
    samples: rows,
  };
}

/**
 * One onnxruntime run of the check, with onnxruntime's failure (an input of another dtype, a shape
 * the model does not accept) as a typed error saying which model and what onnxruntime said.
 */
async function runChecked<S extends { run(feeds: never): Promise<unknown> }>(
  session: S,
  feeds: Record<string, unknown>,
  which: "float" | "quantized",
): Promise<Awaited<ReturnType<S["run"]>>> {
  try {
    return (await session.run(feeds as never)) as Awaited<ReturnType<S["run"]>>;
  } catch (cause) {
    throw new ZeropointError(
      "invalid-calibration-data",
      `onnxruntime could not run the ${which} model on the check data: ${(cause as Error).message.split("\n")[0]}`,
      { cause },
    );
  }
}

/** Encoded size of a model plus the external data its tensors still read from their files. */
export function modelByteSize(model: OnnxModel): number {
  let external = 0;
  if (model.graph)
    forEachTensor(model.graph, (t) => {
      external += lazyExternalRange(t)?.length ?? 0;
    });
  return encodeModel(model).length + external;
}
