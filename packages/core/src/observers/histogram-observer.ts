import { dtypeInfo } from "../dtype/dtype.js";
import type { ObserverOptions } from "./observer.js";
import { StreamedHistogramObserver } from "./streamed-histogram-observer.js";
import { nonLinearParamSearch } from "./torch-histogram.js";

/**
 * PyTorch 2.11 `HistogramObserver`: a 2048-bin histogram merged across batches (each new batch is
 * binned over the widened range and the old histogram is upsampled onto it), then a greedy L2
 * clipping search. The error model always assumes `2^bits` destination bins (256 for 8-bit) even
 * with `reduceRange` or a custom range, as PyTorch does.
 */
export class HistogramObserver extends StreamedHistogramObserver {
  readonly kind = "histogram" as const;

  constructor(options: ObserverOptions = {}) {
    super(options);
  }

  protected clip(): { min: number; max: number } {
    return nonLinearParamSearch(this.hist, 2 ** dtypeInfo(this.options.dtype ?? "uint8").bits);
  }
}
