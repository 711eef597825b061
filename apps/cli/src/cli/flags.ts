import { parseCriterion } from "@zeropoint/core";
import { type MaxSize, parseMaxSize } from "../commands/quantize/mixed-precision.js";
import { UsageError } from "../errors.js";

// Flag parsers shared by the commands: each turns one flag's text into its value or a UsageError
// (exit 2) naming the flag, so no command reads a malformed value.

/** A comma-separated list (`--exclude-nodes a,b`), blanks dropped; undefined when the flag is absent. */
export function list(v: string | undefined): string[] | undefined {
  return v === undefined
    ? undefined
    : v
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "");
}

/** `--resize HxW`. */
export function parseResize(v: string): [number, number] {
  const m = /^(\d+)x(\d+)$/.exec(v);
  if (!m) throw new UsageError(`--resize expects HxW, got ${v}`);
  return [Number(m[1]), Number(m[2])];
}

/** `--mean` / `--std`: one value for every channel or one per channel (three); a zero std would divide by zero. */
export function numbers(name: string, v: string): number[] {
  const values = v.split(",").map(Number);
  if (values.some((x) => !Number.isFinite(x)) || (values.length !== 1 && values.length !== 3)) {
    throw new UsageError(`--${name} expects one or three numbers, got ${v}`);
  }
  if (name === "std" && values.some((x) => x === 0)) throw new UsageError("--std must not be 0");
  return values;
}

/** A positive integer flag, or its default when absent. */
export function positiveInt(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer, got ${v}`);
  return n;
}

/** A flag restricted to a list of values, or its default when absent. */
export function oneOf<T extends string>(name: string, v: string | undefined, allowed: readonly T[], fallback: T): T {
  if (v === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(v))
    throw new UsageError(`--${name} must be one of ${allowed.join(", ")}, got ${v}`);
  return v as T;
}

/** `--accuracy-level 0..4` (MatMulNBits), or undefined. */
export function accuracyLevelFlag(value: string | undefined): 0 | 1 | 2 | 3 | 4 | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-4]$/.test(value)) throw new UsageError(`--accuracy-level must be 0..4, got ${value}`);
  return Number(value) as 0 | 1 | 2 | 3 | 4;
}

/** `--mixed [--max-size 1.25x|12MB]`: the size budget, or undefined without --mixed. */
export function mixedFlag(values: Record<string, unknown>): { maxSize: MaxSize } | undefined {
  const max = values["max-size"] as string | undefined;
  if (values.mixed !== true) {
    if (max !== undefined) throw new UsageError("--max-size is the budget of --mixed");
    return undefined;
  }
  return { maxSize: max === undefined ? { ratio: 1.25 } : parseMaxSize(max) };
}

/** `--max-loss` checked by core's criterion parser (0.5%, 0.01, ...). */
export function checkedMaxLoss(text: string): string {
  try {
    parseCriterion(text);
  } catch (e) {
    throw new UsageError(`--max-loss: ${(e as Error).message}`);
  }
  return text;
}

/** `--reduce-range` / `--no-reduce-range`: undefined lets the target CPU decide. */
export function reduceRangeFlag(on: boolean | undefined, off: boolean | undefined): boolean | undefined {
  if (on === true && off === true) throw new UsageError("--reduce-range and --no-reduce-range contradict each other");
  return on === true ? true : off === true ? false : undefined;
}

/**
 * `--samples -1` would make parseArgs call "-1" an option ("argument is ambiguous"); join such a
 * value to its flag (`--samples=-1`) so the flag's own check says what is wrong with it.
 */
export function joinNegativeValues(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    const next = args[i + 1];
    if (a.startsWith("--") && !a.includes("=") && next !== undefined && /^-\d/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/** `--input-shape name=d0,d1,...` (repeatable) as dims per input. */
export function parseInputShapes(specs: readonly string[] | undefined): Record<string, number[]> {
  const shapes: Record<string, number[]> = {};
  for (const spec of specs ?? []) {
    const m = /^([^=]+)=([\d,]+)$/.exec(spec);
    if (!m) throw new UsageError(`--input-shape expects name=d0,d1,..., got ${spec}`);
    shapes[m[1] as string] = (m[2] as string).split(",").map(Number);
  }
  return shapes;
}

/** A finite number flag, or its default when absent. */
export function finiteNumber(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new UsageError(`--${flag} must be a number, got ${value}`);
  return n;
}

/** The image-directory flags (`--resize`, `--layout`, `--mean`, `--std`); the layout default differs per framework. */
export function imageFlags(
  values: { resize?: string; layout?: string; mean?: string; std?: string },
  defaultLayout: "nchw" | "nhwc",
): import("../data/calibration-data.js").ImageOptions {
  return {
    ...(values.resize !== undefined ? { resize: parseResize(values.resize) } : {}),
    layout: oneOf("layout", values.layout, ["nchw", "nhwc"] as const, defaultLayout),
    ...(values.mean !== undefined ? { mean: numbers("mean", values.mean) } : {}),
    ...(values.std !== undefined ? { std: numbers("std", values.std) } : {}),
  };
}
