import { ZeropointError } from "../errors/zeropoint-error.js";
import type { ModelInputSpec } from "./input-spec.js";
import { allocateTensorData, elementCount, FLOAT_DTYPES, type NamedTensor, type TensorRecord } from "./named-tensor.js";

/** Options for {@link batchSamples}. */
export interface BatchSamplesOptions {
  /** Samples per batch when the batch is symbolic; a model's fixed batch size overrides it. */
  readonly batchSize: number;
  /** Stop after this many samples. */
  readonly maxSamples?: number;
  /** Inputs fed the same value in every batch (`--input sr=16000`), in the model's full dims. */
  readonly constants?: TensorRecord;
}

/**
 * Stacks samples (one tensor per input, dims without the batch axis) into batches laid out as the
 * model declares: samples go on each input's own batch axis (axis 1 for an RNN state
 * `[layers, batch, hidden]`), and a model exported with a fixed batch gets exactly that many
 * samples per batch: a batch-1 model is fed sample by sample, and with a fixed batch above 1 a last
 * partial batch is dropped (padding it would make calibrators and checks count a sample twice).
 * Inputs without a batch axis and pinned constants are fed unchanged. Samples of differing
 * non-batch dims (variable sequence lengths) start a new batch instead of being padded. Errors
 * name the input and the sample.
 */
export async function* batchSamples(
  specs: readonly ModelInputSpec[],
  samples: AsyncIterable<TensorRecord> | Iterable<TensorRecord>,
  options: BatchSamplesOptions,
): AsyncGenerator<TensorRecord> {
  const constants = options.constants ?? {};
  const batched = specs.filter((s) => s.batchAxis !== undefined && constants[s.name] === undefined);
  const fixed = fixedBatch(batched);
  const size = fixed ?? Math.max(1, Math.floor(options.batchSize));
  let pending: TensorRecord[] = [];
  let key = "";
  let seen = 0;
  const flush = (): TensorRecord => {
    const out: Record<string, NamedTensor> = { ...constants };
    for (const spec of specs) {
      if (out[spec.name] !== undefined) continue;
      if (spec.batchAxis === undefined) {
        out[spec.name] = (pending[0] as TensorRecord)[spec.name] as NamedTensor;
        continue;
      }
      out[spec.name] = stack(
        pending.map((p) => p[spec.name] as NamedTensor),
        spec.batchAxis,
      );
    }
    pending = [];
    return out;
  };
  for await (const sample of samples as AsyncIterable<TensorRecord>) {
    if (options.maxSamples !== undefined && seen >= options.maxSamples) break;
    checkSample(specs, sample, seen, constants);
    const shapeKey = batched.map((s) => (sample[s.name] as NamedTensor).dims.join("x")).join(";");
    if (pending.length > 0 && (shapeKey !== key || pending.length >= size)) yield flush();
    key = shapeKey;
    pending.push(sample);
    seen++;
  }
  if (pending.length > 0 && (fixed === undefined || pending.length === fixed)) yield flush();
}

function fixedBatch(specs: readonly ModelInputSpec[]): number | undefined {
  for (const s of specs) {
    const d = s.dims[s.batchAxis as number];
    if (typeof d === "number" && d > 0) return d;
  }
  return undefined;
}

function checkSample(
  specs: readonly ModelInputSpec[],
  sample: TensorRecord,
  index: number,
  constants: TensorRecord,
): void {
  for (const name of Object.keys(sample)) {
    if (!specs.some((s) => s.name === name)) {
      throw new ZeropointError(
        "invalid-calibration-data",
        `sample ${index} has an input named ${name}; the model's inputs are ${specs.map((s) => s.name).join(", ")}`,
      );
    }
  }
  for (const spec of specs) {
    if (constants[spec.name] !== undefined) continue;
    const t = sample[spec.name];
    if (t === undefined) {
      throw new ZeropointError(
        "invalid-calibration-data",
        `sample ${index} has no data for input ${spec.name} (${spec.dtype} [${spec.dims.join(", ")}]); pin a constant with --input ${spec.name}=VALUE`,
        { details: { input: spec.name, sample: index } },
      );
    }
    if (t.dtype !== spec.dtype) {
      throw new ZeropointError(
        "invalid-dtype",
        `sample ${index}, input ${spec.name}: ${t.dtype} data but the model takes ${spec.dtype}`,
        { details: { input: spec.name, sample: index } },
      );
    }
    if (elementCount(t.dims) !== t.data.length) {
      throw new ZeropointError(
        "invalid-calibration-data",
        `sample ${index}, input ${spec.name}: ${t.data.length} values for dims [${t.dims.join(", ")}]`,
      );
    }
    // An input the model declares no shape for takes samples of any rank.
    if (!spec.shapeUnknown) {
      const rank = spec.dims.length - (spec.batchAxis === undefined ? 0 : 1);
      if (t.dims.length !== rank) {
        throw new ZeropointError(
          "invalid-calibration-data",
          `sample ${index}, input ${spec.name}: rank ${t.dims.length} ([${t.dims.join(", ")}]) but one sample of [${spec.dims.join(", ")}] has rank ${rank}`,
          { details: { input: spec.name, sample: index } },
        );
      }
      let axis = 0;
      spec.dims.forEach((d, modelAxis) => {
        if (modelAxis === spec.batchAxis) return;
        const got = t.dims[axis];
        if (typeof d === "number" && d > 0 && got !== d) {
          throw new ZeropointError(
            "invalid-calibration-data",
            `sample ${index}, input ${spec.name}: dim ${modelAxis} is ${got} but the model expects ${d} (sample [${t.dims.join(", ")}], model [${spec.dims.join(", ")}])`,
            { details: { input: spec.name, sample: index } },
          );
        }
        axis++;
      });
    }
    if (FLOAT_DTYPES.has(t.dtype) && t.dtype !== "float16") {
      const data = t.data as Float32Array;
      for (let i = 0; i < data.length; i++) {
        if (!Number.isFinite(data[i] as number)) {
          throw new ZeropointError(
            "invalid-calibration-data",
            `sample ${index}, input ${spec.name}: element ${i} is ${data[i]}`,
            { details: { input: spec.name, sample: index, index: i } },
          );
        }
      }
    }
  }
}

/** Stacks same-dims tensors on a new axis `axis` (copying each sample's slabs into place). */
export function stack(tensors: readonly NamedTensor[], axis: number): NamedTensor {
  const first = tensors[0] as NamedTensor;
  const n = tensors.length;
  const dims = [...first.dims.slice(0, axis), n, ...first.dims.slice(axis)];
  const outer = elementCount(first.dims.slice(0, axis));
  const inner = elementCount(first.dims.slice(axis));
  const out = allocateTensorData(first.dtype, n * outer * inner);
  const target = out as unknown as { set(a: ArrayLike<number | bigint>, o: number): void };
  for (let s = 0; s < n; s++) {
    const data = (tensors[s] as NamedTensor).data as unknown as { subarray(a: number, b: number): ArrayLike<number> };
    for (let o = 0; o < outer; o++) target.set(data.subarray(o * inner, (o + 1) * inner), (o * n + s) * inner);
  }
  return { dtype: first.dtype, data: out, dims };
}

/** Rows (samples) in a batch laid out as `specs` declare: the batch-axis dim of the first batched input. */
export function batchRows(
  batch: Readonly<Record<string, { readonly dims: readonly number[] }>>,
  specs: readonly ModelInputSpec[],
): number {
  for (const s of specs) {
    const t = batch[s.name];
    if (s.batchAxis !== undefined && t !== undefined) return t.dims[s.batchAxis] ?? 1;
  }
  return 1;
}
