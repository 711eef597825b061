import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { basename, resolve } from "node:path";
import { parseRecipe, type Recipe, ZeropointError } from "@zeropoint/core";
import { modelKind } from "../adapters.js";
import { type CompareReport, compareModel } from "../compare/compare.js";
import { compareHtml, rowLabel } from "../compare/report-html.js";
import { loadCalibrationData, loadMnist } from "../data/calibration-data.js";
import { UsageError } from "../errors.js";
import { table } from "../report.js";

/** Flags of `zeropoint compare`. */
export interface CompareFlags {
  readonly model: string;
  readonly calibData: string;
  readonly samples: number;
  readonly evalData: string;
  readonly evalSamples: number | undefined;
  readonly out: string | undefined;
  readonly recipe: string | undefined;
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
  if (modelKind(flags.model) !== "onnx")
    throw new UsageError("compare takes an ONNX model (the frameworks are built from it)");
  const split = flags.evalData === "mnist" ? "test" : flags.evalData.replace(/^mnist:/, "");
  if (!flags.evalData.startsWith("mnist") || !["test", "test-even", "test-odd", "train"].includes(split)) {
    throw new UsageError(`--eval-data supports mnist[:test|test-even|test-odd] (labelled data), got ${flags.evalData}`);
  }
  const mnist = loadMnist(split as "test");
  const count = Math.min(flags.evalSamples ?? mnist.count, mnist.count);
  const onnx = await import("@zeropoint/onnx");
  const { model } = onnx.loadModel(flags.model);
  const graph = model.graph as NonNullable<typeof model.graph>;
  const initializers = new Set(graph.initializer.map((t) => t.name));
  const inputs = graph.input
    .filter((v) => !initializers.has(v.name))
    .map((v) => ({ name: v.name ?? "", dims: onnx.valueInfoDims(v) }));
  const data = loadCalibrationData(flags.calibData, inputs, { samples: flags.samples, batchSize: 32, inputShapes: {} });
  const calibration: Float32Array[] = [];
  for await (const batch of data.source() as AsyncIterable<Record<string, { data: Float32Array }>>) {
    const first = Object.values(batch)[0];
    if (first !== undefined) calibration.push(Float32Array.from(first.data));
  }
  const quiet = flags.json;
  if (!quiet)
    out(
      `zeropoint compare ${flags.model} — calibration: ${data.description}; evaluation: mnist ${split}, ${count} images`,
    );
  const recipe = loadRecipe(flags.recipe);
  const report = await compareModel({
    model: flags.model,
    ...(recipe !== undefined ? { recipe } : {}),
    calibration,
    evaluation: { images: mnist.images.subarray(0, count * 784), labels: mnist.labels.subarray(0, count), count },
    onStep: (s) => {
      if (!quiet) process.stderr.write(`  ${s}...\n`);
    },
  });
  const html = resolve(flags.out ?? `zeropoint-compare-${basename(flags.model).replace(/\.onnx$/, "")}.html`);
  const tmp = `${html}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, compareHtml(report));
    renameSync(tmp, html);
  } catch (cause) {
    throw new ZeropointError("io-error", `cannot write the report ${html}`, { cause });
  }
  const result = { ...report, html };
  if (quiet) return result;
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
  const withLayers = report.rows.filter((r) => r.layers !== undefined && r.format !== "integer executor");
  if (report.layers.length > 0) {
    out("");
    out("per-layer output scale / zero point:");
    out(
      table(
        ["layer", ...withLayers.map(rowLabel)],
        report.layers.map((l) => [
          l,
          ...withLayers.map((r) =>
            r.layers?.[l] ? `${r.layers[l].scale.toPrecision(4)} / ${r.layers[l].zeroPoint}` : "-",
          ),
        ]),
      ),
    );
  }
  out("");
  out(`report: ${html}`);
  return result;
}
