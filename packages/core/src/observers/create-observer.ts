import { ZeropointError } from "../errors/zeropoint-error.js";
import { HistogramObserver } from "./histogram-observer.js";
import { MinMaxObserver } from "./minmax-observer.js";
import { MseObserver } from "./mse-observer.js";
import {
  OBSERVER_KINDS,
  type Observer,
  type ObserverKind,
  type ObserverOptions,
  type ObserverState,
} from "./observer.js";
import { OnnxruntimeHistogramCalibrator } from "./onnxruntime-histogram-calibrator.js";
import { PerChannelMinMaxObserver } from "./per-channel-minmax-observer.js";

/**
 * Creates an observer/calibrator.
 *
 * @example
 * ```ts
 * const obs = createObserver("histogram", { dtype: "uint8", reduceRange: true });
 * for (const batch of batches) obs.observe(batch);
 * const { scale, zeroPoint } = obs.qparams();
 * ```
 */
export function createObserver(kind: ObserverKind, options: ObserverOptions = {}): Observer {
  switch (kind) {
    case "minmax":
      return new MinMaxObserver(options, false);
    case "moving-average-minmax":
      return new MinMaxObserver(options, true);
    case "per-channel-minmax":
      return new PerChannelMinMaxObserver(options, false);
    case "moving-average-per-channel-minmax":
      return new PerChannelMinMaxObserver(options, true);
    case "histogram":
      return new HistogramObserver(options);
    case "entropy":
    case "percentile":
      return new OnnxruntimeHistogramCalibrator(kind, options);
    case "mse":
      return new MseObserver(options);
    default:
      throw new ZeropointError(
        "invalid-argument",
        `unknown observer kind ${JSON.stringify(kind)}; expected one of ${OBSERVER_KINDS.join(", ")}`,
      );
  }
}

/** Restores an observer from {@link Observer.toJSON} output (possibly from another process). */
export function observerFromJSON(json: ObserverState | string): Observer {
  let state: unknown;
  try {
    state = typeof json === "string" ? JSON.parse(json) : json;
  } catch (cause) {
    throw new ZeropointError("invalid-state", "observer state is not valid JSON", { cause });
  }
  if (
    typeof state !== "object" ||
    state === null ||
    (state as ObserverState).format !== "zeropoint-observer" ||
    (state as ObserverState).version !== 1
  ) {
    throw new ZeropointError("invalid-state", "not a zeropoint observer state (format/version mismatch)");
  }
  const s = state as ObserverState;
  const observer = createObserver(s.kind, s.options ?? {});
  const inner = s.state ?? {};
  (observer as unknown as { restore(state: Record<string, unknown>): void }).restore(inner);
  if (typeof inner.pass === "number" && observer.passes === 1 && inner.pass !== 0) {
    throw new ZeropointError("invalid-state", `${s.kind} observer state has pass ${inner.pass}`);
  }
  return observer;
}
