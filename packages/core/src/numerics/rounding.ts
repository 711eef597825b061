/**
 * Rounds to the nearest integer, ties to even (numpy `round`, `torch.round`, C `nearbyint` in the
 * default FP mode). JS `Math.round` rounds ties towards +infinity, which disagrees on every x.5.
 */
export function roundHalfToEven(x: number): number {
  const r = Math.round(x);
  // Math.round(x) is floor(x + 0.5); only exact ties need correcting, and only when r is odd.
  if (r - x === 0.5 && r % 2 !== 0) return r - 1;
  return r;
}

/** Rounds ties away from zero (C `std::round`, TFLite `TfLiteRound`). */
export function roundHalfAwayFromZero(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** Rounding modes used by the anchors. */
export type RoundingMode = "half-to-even" | "half-away-from-zero" | "half-up";

/** Applies a {@link RoundingMode}. `half-up` is `floor(x + 0.5)` (TF fake-quant). */
export function roundWith(mode: RoundingMode, x: number): number {
  switch (mode) {
    case "half-to-even":
      return roundHalfToEven(x);
    case "half-away-from-zero":
      return roundHalfAwayFromZero(x);
    case "half-up":
      return Math.floor(x + 0.5);
  }
}

/** float32 machine epsilon, 2^-23 (`torch.finfo(torch.float32).eps`). */
export const FLOAT32_EPS = 1.1920928955078125e-7;
/** Smallest positive normal float32 (`numpy.finfo(float32).tiny`). */
export const FLOAT32_TINY = 1.1754943508222875e-38;
