import { agreement, sqnr, top1, ZeropointError } from "@zeropoint/core";
import type { IntegerExecutor } from "../integer/integer-executor.js";

/** One batch of the model's single input: data and its full shape (batch first). */
export interface CheckBatch {
  readonly data: Float32Array;
  readonly shape: readonly number[];
}

/** What {@link checkTfjsQuantized} measures. */
export interface TfjsQuantizedCheck {
  readonly samples: number;
  /** Share of rows whose top-1 equals the float model's (undefined for zero rows). */
  readonly top1Agreement: number | undefined;
  /** Worst per-batch SQNR (dB) of the quantized outputs against float. */
  readonly outputSqnr: number;
  /**
   * With an integer executor: share of rows where it gives the quantized model's top-1; null when
   * the executor lacks one of the model's ops; undefined when none was given.
   */
  readonly integerExecutorTop1Agreement?: number | null;
}

/**
 * A quantized tfjs model against its float model on the check batches (the same check for
 * weight-only and static builds, the integer executor's agreement with the fake-quantized model
 * when one is given): what `zeropoint quantize` prints for a tfjs model, kept in the adapter so
 * every caller measures the same thing.
 */
export function checkTfjsQuantized(
  float: (x: CheckBatch) => Float32Array,
  quantized: (x: CheckBatch) => Float32Array,
  batches: readonly CheckBatch[],
  executor?: { readonly run: IntegerExecutor; readonly output: string },
): TfjsQuantizedCheck {
  let agree = 0;
  let agreeInt = 0;
  let rows = 0;
  let worst = Number.POSITIVE_INFINITY;
  let integerSupported = executor !== undefined;
  for (const x of batches) {
    const n = x.shape[0] as number;
    const a = float(x);
    const b = quantized(x);
    const tb = top1(b, n);
    agree += agreement(top1(a, n), tb) * n;
    if (executor !== undefined && integerSupported) {
      try {
        const c = executor.run.run(x.data, [...x.shape]).outputs.get(executor.output)?.data as Float32Array;
        agreeInt += agreement(top1(c, n), tb) * n;
      } catch (e) {
        if (!(ZeropointError.isInstance(e) && e.code === "unsupported-op")) throw e;
        integerSupported = false;
      }
    }
    rows += n;
    worst = Math.min(worst, sqnr(a, b));
  }
  return {
    samples: rows,
    top1Agreement: rows === 0 ? undefined : agree / rows,
    outputSqnr: worst,
    ...(executor !== undefined ? { integerExecutorTop1Agreement: integerSupported ? agreeInt / rows : null } : {}),
  };
}
