import { ZeropointError } from "../errors/zeropoint-error.js";
import type { QParams } from "../qparams/qparams.js";
import { normalizeAxis } from "../scheme/scheme.js";

/**
 * How a flat buffer maps onto parameter sets: element `i` belongs to parameter
 * `outer * (groups * inner) + group * inner + j`, where the axis index `a` gives `group = floor(a / block)`.
 * Per-tensor is the degenerate case (one group, block = all).
 */
export interface ParamLayout {
  readonly outer: number;
  readonly axisLength: number;
  readonly inner: number;
  readonly block: number;
  readonly groups: number;
  /** Number of parameter entries the layout expects. */
  readonly paramCount: number;
}

/** Product of a shape's dims; throws `invalid-shape` for negative or fractional dims. */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0)
      throw new ZeropointError("invalid-shape", `invalid dimension ${d} in shape [${shape.join(", ")}]`);
    n *= d;
  }
  return n;
}

/** Resolves the layout of `qparams` over a tensor of `shape` with `length` elements. */
export function paramLayout(qparams: QParams, length: number, shape: readonly number[] | undefined): ParamLayout {
  const count = qparams.scale.length;
  if (qparams.zeroPoint.length !== count) {
    throw new ZeropointError(
      "shape-mismatch",
      `qparams have ${count} scales but ${qparams.zeroPoint.length} zero points`,
    );
  }
  if (shape !== undefined && shapeSize(shape) !== length) {
    throw new ZeropointError(
      "shape-mismatch",
      `data has ${length} elements but shape [${shape.join(", ")}] has ${shapeSize(shape)}`,
    );
  }
  if (qparams.axis === undefined) {
    if (count !== 1) throw new ZeropointError("shape-mismatch", `per-tensor qparams must have one scale, got ${count}`);
    return { outer: 1, axisLength: length, inner: 1, block: Math.max(length, 1), groups: 1, paramCount: 1 };
  }
  if (shape === undefined)
    throw new ZeropointError("invalid-shape", "per-channel and per-group quantization need the tensor shape");
  const axis = normalizeAxis(qparams.axis, shape.length);
  const axisLength = shape[axis] as number;
  let outer = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i] as number;
  let inner = 1;
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i] as number;
  const block = qparams.groupSize ?? 1;
  if (!Number.isInteger(block) || block < 1)
    throw new ZeropointError("invalid-argument", `group size must be a positive integer, got ${block}`);
  const groups = Math.ceil(axisLength / block);
  const paramCount = qparams.groupSize === undefined ? axisLength : outer * groups * inner;
  if (count !== paramCount) {
    throw new ZeropointError(
      "shape-mismatch",
      `expected ${paramCount} quantization parameters for axis ${axis} of shape [${shape.join(", ")}], got ${count}`,
    );
  }
  return { outer, axisLength, inner, block, groups, paramCount };
}

/**
 * Calls `fn(start, end, stride, paramIndex)` for every run of elements sharing a parameter set.
 * The runs are `start, start + stride, ... < end`. Keeps the hot loops in the callers flat.
 */
export function forEachParamRun(
  layout: ParamLayout,
  perGroup: boolean,
  fn: (start: number, count: number, stride: number, param: number) => void,
): void {
  const { outer, axisLength, inner, block, groups } = layout;
  if (layout.paramCount === 1 && !perGroup) {
    fn(0, outer * axisLength * inner, 1, 0);
    return;
  }
  for (let o = 0; o < outer; o++) {
    for (let a = 0; a < axisLength; a++) {
      const base = (o * axisLength + a) * inner;
      if (!perGroup) {
        fn(base, inner, 1, a);
        continue;
      }
      const g = Math.floor(a / block);
      for (let j = 0; j < inner; j++) fn(base + j, 1, 1, (o * groups + g) * inner + j);
    }
  }
}
