/**
 * Every failure zeropoint reports on purpose carries one of these codes, so callers can branch on
 * `error.code` instead of parsing messages.
 */
export type ZeropointErrorCode =
  | "invalid-argument"
  | "invalid-dtype"
  | "invalid-axis"
  | "invalid-shape"
  | "shape-mismatch"
  | "non-finite-data"
  | "empty-data"
  | "invalid-range"
  | "observer-not-ready"
  | "calibration-pass-mismatch"
  | "merge-unsupported"
  | "invalid-state"
  | "invalid-recipe"
  | "duplicate-capability"
  | "unsupported-op"
  | "invalid-model"
  | "invalid-calibration-data"
  | "missing-dependency"
  | "io-error"
  | "unsafe-path";

const MARKER = Symbol.for("@zeropoint/core/error");

/**
 * The one error type zeropoint throws for bad input or unsupported requests.
 *
 * @example
 * ```ts
 * try { createObserver("minmax").qparams(); }
 * catch (e) { if (ZeropointError.isInstance(e) && e.code === "observer-not-ready") { ... } }
 * ```
 */
export class ZeropointError extends Error {
  /** Machine-readable reason, one of {@link ZeropointErrorCode}. */
  readonly code: ZeropointErrorCode;
  /** Optional structured details (node name, file, tensor index, ...). */
  readonly details: Readonly<Record<string, unknown>> | undefined;
  readonly [MARKER] = true;

  constructor(
    code: ZeropointErrorCode,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ZeropointError";
    this.code = code;
    this.details = options?.details;
  }

  /** True for any ZeropointError, also one created by another copy of this package. */
  static isInstance(value: unknown): value is ZeropointError {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[MARKER] === true;
  }
}
