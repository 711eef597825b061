import {
  allocateTensorData,
  type ModelInputSpec,
  type NamedTensor,
  type TensorRecord,
  ZeropointError,
} from "@zeropoint/core";
import { UsageError } from "../errors.js";

/**
 * Parses `--input name=value[,value...]` into constant tensors in the model's dtype and full dims:
 * one value fills the input (a rank-0 `sr=16000`, or a state of zeros); several must match the
 * input's element count. Symbolic dims of a pinned input take size 1.
 */
export function parseInputValues(values: readonly string[], specs: readonly ModelInputSpec[]): TensorRecord {
  const out: Record<string, NamedTensor> = {};
  for (const raw of values) {
    const m = /^([^=]+)=(.+)$/.exec(raw);
    if (!m) throw new UsageError(`--input expects name=value, got ${raw}`);
    const name = m[1] as string;
    const spec = specs.find((s) => s.name === name);
    if (spec === undefined)
      throw new UsageError(
        `--input ${name}: the model has no input ${name} (its inputs: ${specs.map((s) => s.name).join(", ")})`,
      );
    const numbers = (m[2] as string).split(",").map(Number);
    if (numbers.some((x) => !Number.isFinite(x))) throw new UsageError(`--input ${name}: ${m[2]} is not a number list`);
    const dims = spec.dims.map((d) => (typeof d === "number" && d > 0 ? d : 1));
    const count = dims.reduce((a, b) => a * b, 1);
    if (numbers.length !== 1 && numbers.length !== count)
      throw new UsageError(`--input ${name}: ${numbers.length} values for an input of ${count} elements`);
    const data = allocateTensorData(spec.dtype, count);
    for (let i = 0; i < count; i++) {
      const v = numbers.length === 1 ? (numbers[0] as number) : (numbers[i] as number);
      if (spec.dtype === "int64") (data as BigInt64Array)[i] = BigInt(Math.trunc(v));
      else if (spec.dtype === "float16")
        throw new ZeropointError(
          "invalid-dtype",
          `--input ${name}: float16 constants are not supported; use a data file`,
        );
      else (data as Float32Array)[i] = v;
      if (!spec.dtype.startsWith("float") && !Number.isInteger(v))
        throw new UsageError(`--input ${name}: ${v} is not an integer, the input is ${spec.dtype}`);
    }
    out[name] = { dtype: spec.dtype, data, dims } as NamedTensor;
  }
  return out;
}
