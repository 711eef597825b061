import { ZeropointError } from "../errors/zeropoint-error.js";

/** How much the metric may drop against float: relative (fraction of the float metric) or absolute. */
export interface AccuracyCriterion {
  readonly kind: "relative" | "absolute";
  readonly maxLoss: number;
}

/** Parses `0.5%` (relative) or `0.005abs` (absolute). */
export function parseCriterion(text: string): AccuracyCriterion {
  const relative = /^(\d+(?:\.\d+)?)%$/.exec(text.trim());
  // A loss of 100% or more accepts any model, including one that predicts nothing: a typo, not a criterion.
  if (relative) {
    const maxLoss = Number(relative[1]) / 100;
    if (maxLoss >= 1)
      throw new ZeropointError("invalid-argument", `max loss ${text} accepts any model; use less than 100%`);
    return { kind: "relative", maxLoss };
  }
  const absolute = /^(\d+(?:\.\d+)?)abs$/.exec(text.trim());
  if (absolute) {
    const maxLoss = Number(absolute[1]);
    if (maxLoss >= 1)
      throw new ZeropointError("invalid-argument", `max loss ${text} accepts any accuracy; use less than 1abs`);
    return { kind: "absolute", maxLoss };
  }
  throw new ZeropointError("invalid-argument", `max loss must look like 0.5% or 0.005abs, got ${JSON.stringify(text)}`);
}

/** The lowest metric that still meets the criterion. */
export function metricThreshold(criterion: AccuracyCriterion, floatMetric: number): number {
  return criterion.kind === "relative" ? floatMetric * (1 - criterion.maxLoss) : floatMetric - criterion.maxLoss;
}

/** Human-readable criterion. */
export function describeCriterion(c: AccuracyCriterion): string {
  return c.kind === "relative"
    ? `${(c.maxLoss * 100).toFixed(3).replace(/\.?0+$/, "")}% relative loss`
    : `${c.maxLoss} absolute loss`;
}
