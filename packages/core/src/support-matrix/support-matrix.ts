import { ZeropointError } from "../errors/zeropoint-error.js";
import type { Approach } from "../recipe/recipe.js";

/** What data an approach needs, as in the classic support matrix. */
export type DataRequirement = "calibration set" | "none" | "fine-tuning data";

/** The data requirement of each approach. */
export const DATA_REQUIREMENT: Readonly<Record<Approach, DataRequirement>> = {
  static: "calibration set",
  dynamic: "none",
  "weight-only": "none",
  qat: "fine-tuning data",
};

/** One cell of the support matrix, as an adapter registers it. */
export interface Capability {
  /** Unique id, e.g. `onnx/static/qdq`. */
  readonly id: string;
  /** Adapter package name, e.g. `onnx`, `tfjs`, `torch`. */
  readonly framework: string;
  readonly approach: Approach;
  /** Backend or format, e.g. `QDQ`, `QOperator`, `IntegerOps`, `eager`, `FX`, `storage`. */
  readonly format: string;
  /** True when computation stays float (fake-quantized emulation). */
  readonly emulated?: boolean;
  readonly opTypes: readonly string[];
  /** Human-readable schemes, e.g. `int8 symmetric per-channel weights`. */
  readonly schemes: readonly string[];
  /** The test whose passing run proves the cell, and the metric it asserts. */
  readonly verifiedBy: { readonly test: string; readonly metric: string };
  /**
   * The runnable example of the cell (`apps/examples/src/<file>.ts`); when set, the cell is verified
   * only if the example's own test run passed too.
   */
  readonly example?: string;
  readonly notes?: string;
}

/** Result of a verifying test, recorded by the test run. */
export interface CapabilityEvidence {
  readonly id: string;
  /** `stale`: recorded on other sources than the working tree's; never shown as verified. */
  readonly status: "passed" | "failed" | "stale";
  readonly metric?: string;
  readonly commit?: string;
  readonly taskHash?: string;
}

/** A support-matrix row as rendered. */
export interface SupportMatrixRow {
  readonly id: string;
  readonly approach: Approach;
  readonly dataRequirement: DataRequirement;
  readonly framework: string;
  readonly format: string;
  readonly emulated: boolean;
  readonly opTypes: readonly string[];
  readonly schemes: readonly string[];
  readonly test: string;
  readonly metric: string;
  readonly verified: boolean;
  /** The evidence behind the status, when there is any (measured metric, commit, turbo task hash). */
  readonly evidence?: CapabilityEvidence;
}

/**
 * The registry adapters add their capabilities to. Core registers nothing itself; the matrix is
 * whatever the installed adapters registered, and a cell counts as verified only with evidence
 * that its named test passed.
 */
export class SupportMatrix {
  private readonly entries = new Map<string, Capability>();

  /** Adds a capability; throws `duplicate-capability` for a second registration of the same id. */
  register(capability: Capability): void {
    validateCapability(capability);
    const existing = this.entries.get(capability.id);
    if (existing !== undefined) {
      if (JSON.stringify(existing) === JSON.stringify(capability)) return; // idempotent re-import
      throw new ZeropointError("duplicate-capability", `capability ${capability.id} is already registered differently`);
    }
    this.entries.set(capability.id, capability);
  }

  /** Registered capabilities, ordered by approach, framework, format. */
  capabilities(): Capability[] {
    const order = (a: Approach) => ["static", "dynamic", "weight-only", "qat"].indexOf(a);
    return [...this.entries.values()].sort(
      (a, b) =>
        order(a.approach) - order(b.approach) ||
        a.framework.localeCompare(b.framework) ||
        a.format.localeCompare(b.format),
    );
  }

  /** Rows with verification status from `evidence` (missing or failed evidence: unverified). */
  rows(evidence: readonly CapabilityEvidence[] = []): SupportMatrixRow[] {
    const byId = new Map(evidence.map((e) => [e.id, e]));
    return this.capabilities().map((c) => ({
      id: c.id,
      approach: c.approach,
      dataRequirement: DATA_REQUIREMENT[c.approach],
      framework: c.framework,
      format: c.format,
      emulated: c.emulated ?? false,
      opTypes: c.opTypes,
      schemes: c.schemes,
      test: c.verifiedBy.test,
      metric: c.verifiedBy.metric,
      verified: byId.get(c.id)?.status === "passed",
      ...(byId.get(c.id) !== undefined ? { evidence: byId.get(c.id) as CapabilityEvidence } : {}),
    }));
  }

  /** Markdown table in the shape of the classic matrix. */
  toMarkdown(evidence: readonly CapabilityEvidence[] = []): string {
    const rows = this.rows(evidence);
    const lines = [
      "| approach | data needed | framework | backend / format | ops | status | evidence |",
      "|---|---|---|---|---|---|---|",
    ];
    for (const r of rows) {
      const format = r.emulated ? `${r.format} (emulated)` : r.format;
      const status = r.verified ? "verified" : r.evidence?.status === "stale" ? "stale" : "unverified";
      // A claimed metric is never printed as a measured one: unverified cells show the claim as such.
      const measured =
        r.verified && r.evidence?.metric !== undefined
          ? r.evidence.metric
          : r.evidence?.status === "stale"
            ? `claimed ${r.metric}; ${r.evidence.metric}`
            : `claimed ${r.metric}`;
      const made = [
        r.evidence?.commit !== undefined ? `commit ${r.evidence.commit.slice(0, 7)}` : undefined,
        r.evidence?.taskHash !== undefined ? `turbo task ${r.evidence.taskHash}` : undefined,
      ].filter((x) => x !== undefined);
      const at = r.verified && made.length > 0 ? ` (${made.join(", ")})` : "";
      lines.push(
        `| ${r.approach} | ${r.dataRequirement} | ${r.framework} | ${format} | ${r.opTypes.join(", ")} | ${status} | ${r.test}: ${measured}${at} |`,
      );
    }
    if (rows.length === 0) lines.push("| — | — | — | — | — | no adapter registered | — |");
    return `${lines.join("\n")}\n`;
  }

  /** JSON rows. */
  toJSON(evidence: readonly CapabilityEvidence[] = []): SupportMatrixRow[] {
    return this.rows(evidence);
  }
}

function validateCapability(c: Capability): void {
  const missing = (["id", "framework", "approach", "format"] as const).filter(
    (k) => typeof c[k] !== "string" || c[k] === "",
  );
  if (missing.length > 0) throw new ZeropointError("invalid-argument", `capability is missing ${missing.join(", ")}`);
  if (!(c.approach in DATA_REQUIREMENT))
    throw new ZeropointError("invalid-argument", `capability ${c.id}: unknown approach ${c.approach}`);
  if (typeof c.verifiedBy?.test !== "string" || c.verifiedBy.test === "" || typeof c.verifiedBy.metric !== "string") {
    throw new ZeropointError(
      "invalid-argument",
      `capability ${c.id} must name the test that verifies it and its metric`,
    );
  }
}

const REGISTRY_KEY = Symbol.for("@zeropoint/core/support-matrix");

/**
 * The process-wide support matrix, shared by every copy of core loaded in the process (it lives on
 * `globalThis` under a registered symbol, as tfjs keeps its kernel registry).
 */
export function getSupportMatrix(): SupportMatrix {
  const g = globalThis as unknown as Record<symbol, SupportMatrix | undefined>;
  let m = g[REGISTRY_KEY];
  if (m === undefined) {
    m = new SupportMatrix();
    g[REGISTRY_KEY] = m;
  }
  return m;
}

/** Registers a capability in the process-wide matrix. */
export function registerCapability(capability: Capability): void {
  getSupportMatrix().register(capability);
}
