import { ZeropointError } from "../errors/zeropoint-error.js";
import { shapeSize } from "../kernels/layout.js";

/** Min and max of `data` ignoring NaN; `{min: +inf, max: -inf}` when nothing finite is there. Rejects ±Infinity. */
export function finiteMinMax(data: Float32Array, out: { min: number; max: number }, context: string): void {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < data.length; i++) {
    const x = data[i] as number;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  if (lo === Number.NEGATIVE_INFINITY || hi === Number.POSITIVE_INFINITY) {
    const index = data.findIndex((v) => !Number.isFinite(v) && !Number.isNaN(v));
    throw new ZeropointError("non-finite-data", `${context}: element ${index} is ${data[index]}`, {
      details: { index },
    });
  }
  out.min = lo;
  out.max = hi;
}

/** Checks an optional shape against the data length. */
export function checkShape(data: Float32Array, shape: readonly number[] | undefined, context: string): void {
  if (!(data instanceof Float32Array)) {
    throw new ZeropointError("invalid-argument", `${context}: data must be a Float32Array`);
  }
  if (shape !== undefined && shapeSize(shape) !== data.length) {
    throw new ZeropointError(
      "shape-mismatch",
      `${context}: data has ${data.length} elements but shape [${shape.join(", ")}] has ${shapeSize(shape)}`,
    );
  }
}

/** Serializes floats to JSON-safe values (exact for float32; infinities as strings). */
export function floatsToJSON(a: ArrayLike<number>): (number | string)[] {
  return Array.from(a, (v) => (Number.isFinite(v) ? v : String(v)));
}

/** Inverse of {@link floatsToJSON}. */
export function floatsFromJSON(value: unknown, context: string): Float64Array {
  if (!Array.isArray(value)) throw new ZeropointError("invalid-state", `${context}: expected an array`);
  const out = new Float64Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const v = value[i];
    const n = typeof v === "string" ? Number(v) : v;
    if (typeof n !== "number" || Number.isNaN(n)) {
      throw new ZeropointError("invalid-state", `${context}: entry ${i} is not a number`);
    }
    out[i] = n;
  }
  return out;
}
