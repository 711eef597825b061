import { ZeropointError } from "../errors/zeropoint-error.js";

/** One way to store a layer: its bits (16 = kept float), stored bytes and measured error. */
export interface LayerChoice {
  readonly bits: number;
  readonly bytes: number;
  /** Relative output error on calibration data (0 for float). */
  readonly error: number;
}

/** A layer and its choices, the cheapest (the default precision) first. */
export interface LayerCandidates {
  readonly name: string;
  readonly choices: readonly LayerChoice[];
}

/** What {@link chooseLayerBits} picked for one layer. */
export interface LayerDecision {
  readonly name: string;
  readonly bits: number;
  readonly bytes: number;
  readonly error: number;
  /** The error at the cheapest choice, for the report. */
  readonly baseError: number;
}

/**
 * Mixed precision within a byte budget: every layer starts at its cheapest choice and the upgrade
 * with the largest error drop per added byte is taken while it fits in `extraBytes`, the classic
 * greedy for this knapsack (optimal when upgrades are divisible; errors of different layers are
 * treated as additive, which relative output errors of a network's layers roughly are). Ties go to
 * the earlier layer, so the result is deterministic. With `targetError` (a loss budget) it also
 * stops as soon as the summed error is at most that.
 */
export function chooseLayerBits(
  layers: readonly LayerCandidates[],
  extraBytes: number,
  targetError?: number,
): LayerDecision[] {
  if (!(extraBytes >= 0)) throw new ZeropointError("invalid-argument", `byte budget must be >= 0, got ${extraBytes}`);
  for (const l of layers) {
    if (l.choices.length === 0) throw new ZeropointError("invalid-argument", `layer ${l.name} has no choices`);
    for (const c of l.choices)
      if (!Number.isFinite(c.error) || !Number.isFinite(c.bytes))
        throw new ZeropointError("invalid-argument", `layer ${l.name}: non-finite error or size at ${c.bits} bits`);
  }
  const at = layers.map(() => 0);
  let left = extraBytes;
  const total = () => layers.reduce((sum, l, li) => sum + (l.choices[at[li] as number] as LayerChoice).error, 0);
  for (;;) {
    if (targetError !== undefined && total() <= targetError) break;
    const best = bestUpgrade(layers, at, left);
    if (best === undefined) break;
    const l = layers[best.layer] as LayerCandidates;
    left -= (l.choices[best.choice] as LayerChoice).bytes - (l.choices[at[best.layer] as number] as LayerChoice).bytes;
    at[best.layer] = best.choice;
  }
  return layers.map((l, li) => {
    const c = l.choices[at[li] as number] as LayerChoice;
    return {
      name: l.name,
      bits: c.bits,
      bytes: c.bytes,
      error: c.error,
      baseError: (l.choices[0] as LayerChoice).error,
    };
  });
}

/** One step of {@link upgradeOrder}: a layer moved to `bits`, and the totals after it. */
export interface UpgradeStep {
  readonly name: string;
  readonly bits: number;
  /** Bytes added over every layer's cheapest choice, after this step. */
  readonly extraBytes: number;
  /** Summed error of all layers after this step. */
  readonly totalError: number;
}

/**
 * The order {@link chooseLayerBits} buys upgrades in with no budget: largest error drop per added
 * byte first, until every layer is at its lowest-error choice. A prefix of it is a mixed-precision
 * model; a search over prefix lengths (zeropoint tune --bits) finds the smallest that meets an
 * accuracy criterion.
 */
export function upgradeOrder(layers: readonly LayerCandidates[]): UpgradeStep[] {
  const at = layers.map(() => 0);
  let extra = 0;
  let total = layers.reduce((sum, l) => sum + ((l.choices[0] as LayerChoice | undefined)?.error ?? 0), 0);
  const steps: UpgradeStep[] = [];
  for (;;) {
    const best = bestUpgrade(layers, at, Number.POSITIVE_INFINITY);
    if (best === undefined) return steps;
    const l = layers[best.layer] as LayerCandidates;
    const from = l.choices[at[best.layer] as number] as LayerChoice;
    const to = l.choices[best.choice] as LayerChoice;
    extra += to.bytes - from.bytes;
    total += to.error - from.error;
    at[best.layer] = best.choice;
    steps.push({ name: l.name, bits: to.bits, extraBytes: extra, totalError: total });
  }
}

/**
 * The one greedy step both {@link chooseLayerBits} and {@link upgradeOrder} take: among every
 * layer's higher choices (from its current one, `at`) that lower its error and cost at most
 * `left` bytes, the largest error drop per byte (a free upgrade first); ties to the earlier layer.
 */
function bestUpgrade(
  layers: readonly LayerCandidates[],
  at: readonly number[],
  left: number,
): { layer: number; choice: number } | undefined {
  let best: { layer: number; choice: number; ratio: number } | undefined;
  layers.forEach((l, li) => {
    const cur = l.choices[at[li] as number] as LayerChoice;
    for (let ci = (at[li] as number) + 1; ci < l.choices.length; ci++) {
      const next = l.choices[ci] as LayerChoice;
      const gain = cur.error - next.error;
      const cost = next.bytes - cur.bytes;
      if (gain <= 0 || cost > left) continue;
      const ratio = cost <= 0 ? Number.POSITIVE_INFINITY : gain / cost;
      if (best === undefined || ratio > best.ratio) best = { layer: li, choice: ci, ratio };
    }
  });
  return best;
}
