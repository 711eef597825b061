import type { AdapterModel, CalibrationSource, QuantizedLayer, QuantizerAdapter } from "@zeropoint/core";

/** One layer's float output histogram. */
export interface LayerHistogram {
  readonly layer: string;
  readonly min: number;
  readonly max: number;
  readonly counts: number[];
}

const BINS = 64;

/** 64 equal bins over [min(0, lo), max(0, hi)] (0 kept in range: it is always on the quantized grid). */
export function histogram(layer: string, values: Float32Array): LayerHistogram {
  let min = 0;
  let max = 0;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const counts = new Array<number>(BINS).fill(0);
  const width = (max - min) / BINS || 1;
  for (const v of values) {
    const bin = Math.min(BINS - 1, Math.floor((v - min) / width));
    counts[bin] = (counts[bin] as number) + 1;
  }
  return { layer, min, max, counts };
}

/**
 * Histograms of each quantized layer's float output over the calibration set, from the first
 * adapter that can report intermediate activations (an optional part of the adapter contract).
 */
export async function activationHistograms(
  adapters: readonly QuantizerAdapter[],
  models: ReadonlyMap<string, AdapterModel | string>,
  layers: readonly QuantizedLayer[],
  calibration: CalibrationSource,
): Promise<LayerHistogram[]> {
  if (layers.length === 0) return [];
  for (const adapter of adapters) {
    const model = models.get(adapter.framework);
    if (adapter.activations === undefined || model === undefined || typeof model === "string") continue;
    const values = await adapter.activations(
      model,
      layers.map((l) => l.outputNode.output),
      calibration,
    );
    return layers.map(({ node, outputNode }) =>
      histogram(node.name, values.get(outputNode.output) ?? new Float32Array()),
    );
  }
  return [];
}
