import { existsSync, readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { adapterRegistry, parseRecipe, type Recipe, ZeropointError } from "@zeropoint/core";
import { registerAdapters } from "../../adapters.js";
import { writeFileAtomic } from "../../atomic-write.js";
import { type CompareReport, compareModel } from "../../compare/compare.js";
import { compareHtml, rowLabel } from "../../compare/report-html.js";
import { loadCalibrationData, loadMnist } from "../../data/calibration-data.js";
import { UsageError } from "../../errors.js";
import { assertOutputsSafe } from "../../output-guard.js";
import { table } from "../../report.js";

/** Flags of `zeropoint compare`. */
export interface CompareFlags {
  readonly model: string;
  readonly calibData: string;
  readonly samples: number;
  readonly evalData: string;
  readonly evalSamples: number | undefined;
  readonly out: string | undefined;
  readonly recipe: string | undefined;
  /** `--input-shape` for symbolic non-batch dims of the model's input. */
  readonly inputShapes: Record<string, number[]>;
  readonly json: boolean;
}

/** `--recipe`: a built-in name (`static-default`) or a recipe JSON file. */
function loadRecipe(spec: string | undefined): Recipe | undefined {
  if (spec === undefined || spec === "static-default") return undefined;
  if (!existsSync(spec)) throw new UsageError(`--recipe ${spec}: not a built-in recipe (static-default) nor a file`);
  return parseRecipe(readFileSync(spec, "utf8"), spec);
}

const pct = (v: number | undefined) => (v === undefined ? "-" : `${(v * 100).toFixed(2)}%`);

/** Prints the comparison table (and writes the HTML report); returns the report. */
export async function runCompare(
  flags: CompareFlags,
  out: (line: string) => void,
): Promise<CompareReport & { html: string }> {
  await registerAdapters();
  const adapter = await adapterRegistry.resolve(flags.model);
  const html = resolve(flags.out ?? `zeropoint-compare-${basename(flags.model).replace(/\.[^.]*$/, "")}.html`);
  const model = await adapter.load(flags.model);
  // Checked before the long comparison, after symlinks: the report never replaces the model.
  assertOutputsSafe(model.files, [{ flag: "--out", path: html }]);
  const inputs = model.inputs.map((i) => ({ name: i.name, dims: [...i.dims] }));
  if (inputs.length !== 1) {
    // The other frameworks are built from the IR of a single-input network; say so rather than
    // comparing on a wrong feed. quantize and tune take any number of inputs.
    throw new UsageError(
      `compare builds every framework from a single-input model; ${flags.model} has ${inputs.length} inputs (${inputs.map((i) => i.name).join(", ")}). Use zeropoint quantize or tune for it.`,
    );
  }
  const evaluation = await loadEvaluation(flags.evalData, inputs, flags.evalSamples, flags.inputShapes);
  const data = loadCalibrationData(flags.calibData, inputs, {
    samples: flags.samples,
    batchSize: 32,
    inputShapes: flags.inputShapes,
  });
  const calibration: Float32Array[] = [];
  for await (const batch of data.source() as AsyncIterable<Record<string, { data: Float32Array }>>) {
    const first = Object.values(batch)[0];
    if (first !== undefined) calibration.push(Float32Array.from(first.data));
  }
  const quiet = flags.json;
  if (!quiet)
    out(`zeropoint compare ${flags.model} — calibration: ${data.description}; evaluation: ${evaluation.description}`);
  const recipe = loadRecipe(flags.recipe);
  const report = await compareModel({
    model: flags.model,
    source: { adapter, model },
    ...(recipe !== undefined ? { recipe } : {}),
    calibration,
    evaluation,
    onStep: (s) => {
      if (!quiet) process.stderr.write(`  ${s}...\n`);
    },
  });
  writeFileAtomic(html, compareHtml(report));
  const result = { ...report, html };
  if (quiet) return result;
  printReport(report, out);
  out("");
  out(`report: ${html}`);
  return result;
}

/** The float builds: which agree with the source model, and their accuracy. */
function printFloat(report: CompareReport, out: (line: string) => void): void {
  out(
    `static recipe ${report.recipe.name}: ${report.recipe.method} calibration, ${report.recipe.perChannel ? "per-channel" : "per-tensor"} int8 weights, uint8 activations`,
  );
  if (report.irError !== undefined) out(report.irError);
  out(
    report.floatAgree
      ? "float builds agree (max |logit difference| <= 1e-3):"
      : "WARNING: float builds disagree (max |logit difference| > 1e-3):",
  );
  out(
    table(
      ["framework", "runtime", "accuracy", "max |Δ logit| vs onnx"],
      report.float.map((f) => [
        f.framework,
        f.runtime,
        f.accuracy === undefined ? (f.unsupported ?? "-") : pct(f.accuracy),
        f.maxLogitDifference?.toExponential(2) ?? "-",
      ]),
    ),
  );
  out("");
}

/** One row per quantized build. */
function printRows(report: CompareReport, out: (line: string) => void): void {
  out(
    table(
      [
        "framework",
        "approach",
        "format",
        "accuracy",
        "top-1 = float",
        "SQNR dB",
        "size kB",
        "ms/image",
        "runtime",
        "quantize s",
      ],
      report.rows.map((r) =>
        r.unsupported !== undefined
          ? [r.framework, r.approach, r.format, r.unsupported, "", "", "", "", "", ""]
          : [
              r.framework,
              r.approach,
              `${r.format}${r.emulated ? " (emulated)" : ""}`,
              pct(r.accuracy),
              pct(r.top1Agreement),
              (r.sqnr ?? 0).toFixed(1),
              ((r.sizeBytes ?? 0) / 1024).toFixed(1),
              (r.latencyMs ?? 0).toFixed(3),
              r.runtime,
              (r.quantizeSeconds ?? 0).toFixed(2),
            ],
      ),
    ),
  );
}

/** Per-layer output scale and zero point of every static build, marked where it differs from the first. */
function printLayers(report: CompareReport, out: (line: string) => void): void {
  const withLayers = report.rows.filter((r) => r.layers !== undefined && r.format !== "integer executor");
  if (report.layers.length > 0) {
    out("");
    out(`per-layer output scale / zero point (* differs from ${withLayers[0] ? rowLabel(withLayers[0]) : "-"}):`);
    out(
      table(
        ["layer", ...withLayers.map(rowLabel)],
        report.layers.map((l) => {
          const ref = withLayers[0]?.layers?.[l];
          return [
            l,
            ...withLayers.map((r) => {
              const q = r.layers?.[l];
              if (q === undefined) return "-";
              const differs =
                ref !== undefined && (Math.abs(q.scale / ref.scale - 1) > 1e-3 || q.zeroPoint !== ref.zeroPoint);
              return `${q.scale.toPrecision(4)} / ${q.zeroPoint}${differs ? " *" : ""}`;
            }),
          ];
        }),
      ),
    );
  }
}

/** The comparison as tables. */
function printReport(report: CompareReport, out: (line: string) => void): void {
  printFloat(report, out);
  printRows(report, out);
  printLayers(report, out);
}

/**
 * `--eval-data`: `mnist[:test|test-even|test-odd]` (labelled), or a directory of `.npy` samples (as
 * `--calib-data` reads them) with an optional `labels.json` (one integer per sample, in file order);
 * without labels the comparison reports agreement and SQNR but no accuracy.
 */
async function loadEvaluation(
  spec: string,
  inputs: { name: string; dims: (number | string)[] }[],
  limit: number | undefined,
  inputShapes: Record<string, number[]> = {},
): Promise<{ images: Float32Array; labels?: Uint8Array; count: number; description: string }> {
  if (spec.startsWith("mnist")) {
    const split = spec === "mnist" ? "test" : spec.replace(/^mnist:/, "");
    if (!["test", "test-even", "test-odd", "train"].includes(split))
      throw new UsageError(`--eval-data ${spec}: unknown MNIST split`);
    const mnist = loadMnist(split as "test");
    const count = Math.min(limit ?? mnist.count, mnist.count);
    return {
      images: mnist.images.subarray(0, count * 784),
      labels: mnist.labels.subarray(0, count),
      count,
      description: `mnist ${split}, ${count} images`,
    };
  }
  const data = loadCalibrationData(spec, inputs, {
    samples: limit ?? Number.POSITIVE_INFINITY,
    batchSize: 256,
    inputShapes,
  });
  const parts: Float32Array[] = [];
  let count = 0;
  for await (const batch of data.source() as AsyncIterable<Record<string, { data: Float32Array; dims: number[] }>>) {
    const first = Object.values(batch)[0];
    if (first === undefined) continue;
    parts.push(Float32Array.from(first.data));
    count += first.dims[0] as number;
  }
  if (count === 0) throw new ZeropointError("invalid-calibration-data", `--eval-data ${spec}: no samples`);
  const images = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    images.set(p, at);
    at += p.length;
  }
  const labelsFile = join(spec, "labels.json");
  if (!existsSync(labelsFile))
    return { images, count, description: `${count} samples from ${spec} (no labels.json: no accuracy)` };
  const raw = JSON.parse(readFileSync(labelsFile, "utf8")) as unknown;
  if (!Array.isArray(raw) || raw.length < count || !raw.every((v) => Number.isInteger(v) && v >= 0 && v < 256)) {
    throw new ZeropointError(
      "invalid-calibration-data",
      `${labelsFile}: expected an array of at least ${count} class indices`,
    );
  }
  return {
    images,
    labels: Uint8Array.from(raw.slice(0, count) as number[]),
    count,
    description: `${count} labelled samples from ${spec}`,
  };
}
