import { ZeropointError } from "../errors/zeropoint-error.js";
import { type ModelInputSpec, sampleDims } from "./input-spec.js";
import { allocateTensorData, elementCount, floatToHalf, type NamedTensor, type TensorRecord } from "./named-tensor.js";

/** Options for {@link randomSamples}. */
export interface RandomSamplesOptions {
  readonly count: number;
  readonly seed?: number;
  /** Full-rank dims per input (`--input-shape`), for symbolic dims. */
  readonly inputShapes?: Readonly<Record<string, readonly number[]>>;
  /** Length for symbolic non-batch dims nothing else fixes (a sequence length). */
  readonly defaultDim?: number;
  /** Ids are drawn below this for integer inputs whose model does not tell a vocabulary size. */
  readonly vocabSize?: number;
  /** Inputs pinned to a value; they are not drawn. */
  readonly constants?: TensorRecord;
}

/**
 * Deterministic synthetic samples that respect each input's dtype and meaning: floats uniform in
 * [0, 1) (float16 rounded to half), ids uniform below the input's vocabulary size (from the model's
 * embedding table, or `vocabSize`), masks (an input named like `mask`) all ones, bools true.
 * An integer input with no known range (a sample rate, a count) is an error asking for a pinned
 * value rather than a guess that would calibrate the model on inputs it never sees.
 */
export function* randomSamples(
  specs: readonly ModelInputSpec[],
  options: RandomSamplesOptions,
): Generator<TensorRecord> {
  const constants = options.constants ?? {};
  const plans = specs
    .filter((s) => constants[s.name] === undefined && s.batchAxis !== undefined)
    .map((spec) => ({
      spec,
      dims: sampleDims(spec, options.inputShapes?.[spec.name], options.defaultDim),
      kind: kindOf(spec, options.vocabSize),
    }));
  const unbatched = specs.filter((s) => constants[s.name] === undefined && s.batchAxis === undefined);
  for (const s of unbatched) {
    throw new ZeropointError(
      "invalid-argument",
      `input ${s.name} (${s.dtype} [${s.dims.join(", ")}]) has no batch axis; pin its value with --input ${s.name}=VALUE`,
      { details: { input: s.name } },
    );
  }
  let state = ((options.seed ?? 1) * 2654435761) >>> 0 || 1;
  const next = (): number => {
    // xorshift32: deterministic across platforms and passes.
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 4294967296;
  };
  for (let i = 0; i < options.count; i++) {
    const sample: Record<string, NamedTensor> = {};
    for (const { spec, dims, kind } of plans) {
      const n = elementCount(dims);
      const data = allocateTensorData(spec.dtype, n);
      for (let k = 0; k < n; k++) {
        if (kind.type === "float") (data as Float32Array)[k] = next();
        else if (kind.type === "half") (data as Uint16Array)[k] = floatToHalf(next());
        else if (kind.type === "ones") {
          if (spec.dtype === "int64") (data as BigInt64Array)[k] = 1n;
          else (data as Int32Array)[k] = 1;
        } else {
          const id = Math.floor(next() * kind.below);
          if (spec.dtype === "int64") (data as BigInt64Array)[k] = BigInt(id);
          else (data as Int32Array)[k] = id;
        }
      }
      sample[spec.name] = { dtype: spec.dtype, data, dims } as NamedTensor;
    }
    yield sample;
  }
}

type Kind = { type: "float" } | { type: "half" } | { type: "ones" } | { type: "ids"; below: number };

function kindOf(spec: ModelInputSpec, vocabSize: number | undefined): Kind {
  if (spec.dtype === "float32" || spec.dtype === "float64") return { type: "float" };
  if (spec.dtype === "float16") return { type: "half" };
  if (spec.dtype === "bool" || /mask/i.test(spec.name)) return { type: "ones" };
  const below = spec.vocabSize ?? vocabSize;
  if (below === undefined) {
    throw new ZeropointError(
      "invalid-argument",
      `input ${spec.name} is ${spec.dtype} with no known range (it feeds no embedding table); pass --vocab-size N for ids, or pin it with --input ${spec.name}=VALUE`,
      { details: { input: spec.name } },
    );
  }
  return { type: "ids", below };
}
