import { ZeropointError } from "../errors/zeropoint-error.js";

/**
 * A recorded latency profile: the float model's latency and, per quantizable node, how much the
 * model's latency changes when that node alone runs in int8 (negative: faster). Measured once in the
 * target runtime and stored, so tuning is repeatable: same inputs, seed and profile, same plan.
 */
export interface LatencyProfile {
  readonly format: "zeropoint-latency-profile";
  readonly version: 1;
  /** Where it was measured, e.g. `onnxruntime-node 1.30.0, cpu, 1 thread, batch 64`. */
  readonly runtime: string;
  /** Identifies the float model (e.g. its SHA-256). */
  readonly model: string;
  /**
   * The CPU model name and runtime version it was measured with. A recorded profile may seed a
   * search only on a machine where both match; latencies from another CPU are not this machine's.
   */
  readonly cpu?: string;
  readonly onnxruntime?: string;
  readonly floatMs: number;
  /** Node name -> latency change in ms when that node runs int8. */
  readonly nodeDeltaMs: Readonly<Record<string, number>>;
  /** Latency of the all-int8 model, used to correct for interactions (fusions across nodes). */
  readonly allInt8Ms?: number;
  /**
   * Measured latencies of whole plans, keyed by {@link planKey}; "" is the float model. Per-node
   * deltas do not always add up (Q/DQ boundaries, fusions), so the tuner verifies its final
   * candidates with these, recording any it had to measure.
   */
  readonly planMs?: Readonly<Record<string, number>>;
}

/** Key of a plan in {@link LatencyProfile.planMs}: its int8 node names, sorted, joined by "|". */
export function planKey(int8Nodes: Iterable<string>): string {
  return [...int8Nodes].sort().join("|");
}

/** Estimates a plan's latency. */
export interface LatencyModel {
  readonly floatMs: number;
  /** Estimated latency with exactly these nodes in int8. */
  estimate(int8Nodes: ReadonlySet<string>): number;
  /** The int8 latency change of one node (negative: int8 is faster). */
  delta(node: string): number;
  /** The measured latency of a whole plan, when recorded. */
  recorded(int8Nodes: Iterable<string>): number | undefined;
}

/**
 * The additive model: `float + sum of the int8 nodes' deltas`. When the profile also recorded the
 * all-int8 latency, the difference between that measurement and the additive sum is spread over the
 * nodes in proportion to |delta|, so both ends of the scale (float, all-int8) are exact.
 */
export function additiveLatencyModel(profile: LatencyProfile): LatencyModel {
  if (profile.format !== "zeropoint-latency-profile" || profile.version !== 1) {
    throw new ZeropointError("invalid-state", "not a zeropoint latency profile (format/version mismatch)");
  }
  if (!(profile.floatMs > 0)) throw new ZeropointError("invalid-state", "latency profile has no float latency");
  const names = Object.keys(profile.nodeDeltaMs);
  const sum = names.reduce((s, n) => s + (profile.nodeDeltaMs[n] as number), 0);
  const weight = names.reduce((s, n) => s + Math.abs(profile.nodeDeltaMs[n] as number), 0);
  // Fusions across neighbouring int8 nodes make the all-int8 model differ from the sum of single-node
  // deltas; the difference is spread over the nodes in proportion to |delta|, so nodes that barely
  // change latency on their own are not credited with others' interactions.
  const correction = profile.allInt8Ms === undefined || weight === 0 ? 0 : profile.allInt8Ms - profile.floatMs - sum;
  const delta = (node: string) => {
    const d = profile.nodeDeltaMs[node];
    if (d === undefined) throw new ZeropointError("invalid-argument", `latency profile has no entry for node ${node}`);
    return d + (weight === 0 ? 0 : (correction * Math.abs(d)) / weight);
  };
  return {
    floatMs: profile.floatMs,
    delta,
    recorded: (int8Nodes) => profile.planMs?.[planKey(int8Nodes)],
    estimate: (int8Nodes) => {
      let ms = profile.floatMs;
      for (const n of int8Nodes) ms += delta(n);
      return ms;
    },
  };
}
