import { ZeropointError } from "../errors/zeropoint-error.js";

/**
 * How an output is judged beyond SQNR and cosine:
 * - `class-vector`: rank 2 or 3 with more than one class on the last axis (logits, per-token
 *   logits): argmax agreement per row;
 * - `decision`: probabilities in [0, 1] with one value per row, or a dense map (rank >= 4, a
 *   segmentation mask): agreement of the 0.5 decision per element;
 * - `values`: anything else (embeddings, regressions, a state): SQNR and cosine only, since an
 *   "agreement" there would be vacuous (a one-element output always agrees with itself on argmax).
 */
export type OutputKind = "class-vector" | "decision" | "values";

/** One output's comparison of a quantized model with its float reference. */
export interface OutputComparisonResult {
  readonly name: string;
  readonly kind: OutputKind;
  /** `20 log10(||ref|| / ||ref - approx||)` over every element seen; +Infinity when identical. */
  readonly sqnr: number;
  /** Cosine similarity of the flattened outputs (1 when both are zero). */
  readonly cosine: number;
  /** Fraction of rows (class vectors) or elements (decisions) that agree; undefined for `values`. */
  readonly agreement: number | undefined;
  /** How many rows or elements `agreement` counts. */
  readonly agreementCount: number;
  readonly elements: number;
}

/**
 * Streams float and quantized outputs batch by batch (no values kept) and reports SQNR, cosine and
 * the agreement that fits the output's kind, decided from its dims and from the float values seen
 * (a decision output is one whose float values all lie in [0, 1]).
 */
export class OutputComparison {
  private signal = 0;
  private noise = 0;
  private dot = 0;
  private refNorm = 0;
  private approxNorm = 0;
  private elements = 0;
  private inUnitRange = true;
  private argmaxAgree = 0;
  private argmaxRows = 0;
  private decisionAgree = 0;
  private shape: "class-vector" | "single" | "dense" | "values" | undefined;

  constructor(readonly name: string) {}

  /** Adds one batch: `dims` are the output's dims (batch first). */
  add(reference: ArrayLike<number>, approximation: ArrayLike<number>, dims: readonly number[]): void {
    if (reference.length !== approximation.length) {
      throw new ZeropointError(
        "shape-mismatch",
        `output ${this.name}: the quantized model gives ${approximation.length} values, the float model ${reference.length}`,
      );
    }
    const last = dims[dims.length - 1] ?? 1;
    const perRow = dims.length <= 1 ? 1 : reference.length / Math.max(1, dims[0] ?? 1);
    const shape =
      (dims.length === 2 || dims.length === 3) && last > 1
        ? "class-vector"
        : perRow === 1
          ? "single"
          : dims.length >= 4
            ? "dense"
            : "values";
    this.shape ??= shape;
    for (let i = 0; i < reference.length; i++) {
      const x = reference[i] as number;
      const y = approximation[i] as number;
      const d = x - y;
      this.signal += x * x;
      this.noise += d * d;
      this.dot += x * y;
      this.refNorm += x * x;
      this.approxNorm += y * y;
      if (x < 0 || x > 1) this.inUnitRange = false;
      if (x >= 0.5 === y >= 0.5) this.decisionAgree++;
    }
    this.elements += reference.length;
    if (shape === "class-vector") {
      for (let r = 0; r < reference.length; r += last) {
        let bf = r;
        let bq = r;
        for (let k = r + 1; k < r + last; k++) {
          if ((reference[k] as number) > (reference[bf] as number)) bf = k;
          if ((approximation[k] as number) > (approximation[bq] as number)) bq = k;
        }
        if (bf === bq) this.argmaxAgree++;
        this.argmaxRows++;
      }
    }
  }

  result(): OutputComparisonResult {
    if (this.elements === 0) throw new ZeropointError("empty-data", `output ${this.name}: no values compared`);
    if (!Number.isFinite(this.signal) || !Number.isFinite(this.noise))
      throw new ZeropointError("non-finite-data", `output ${this.name}: non-finite values`);
    const sqnr = this.noise === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10(this.signal / this.noise);
    const norms = Math.sqrt(this.refNorm) * Math.sqrt(this.approxNorm);
    const cosine = norms === 0 ? (this.refNorm === this.approxNorm ? 1 : 0) : this.dot / norms;
    const decision = (this.shape === "single" || this.shape === "dense") && this.inUnitRange;
    const kind: OutputKind = this.shape === "class-vector" ? "class-vector" : decision ? "decision" : "values";
    const agreement =
      kind === "class-vector"
        ? this.argmaxAgree / this.argmaxRows
        : kind === "decision"
          ? this.decisionAgree / this.elements
          : undefined;
    const agreementCount = kind === "class-vector" ? this.argmaxRows : kind === "decision" ? this.elements : 0;
    return { name: this.name, kind, sqnr, cosine, agreement, agreementCount, elements: this.elements };
  }
}
