import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { ZeropointError } from "@zeropoint/core";
import { loadOnnxAdapter } from "../../adapters.js";
import { loadModelData, takeBatches } from "../../data/model-data.js";
import { UsageError } from "../../errors.js";
import { assertOutputsSafe } from "../../output-guard.js";
import { bytes, db, table } from "../../report.js";
import { type MaxSize, mixedLayerTable } from "./mixed-precision.js";

/** Parsed flags of `zeropoint quantize --preset`. */
export interface PresetFlags {
  /** A model directory (its `onnx/` folder, else its own `.onnx` files) or one `.onnx` file. */
  readonly input: string;
  /** Where the files go; default beside the float files (transformers.js' `onnx/` layout). */
  readonly output: string | undefined;
  /** Preset names, or `all`. */
  readonly presets: readonly string[];
  readonly calibData: string | undefined;
  readonly samples: number;
  readonly batchSize: number;
  /** q4/q4f16 block (default 32) or bnb4 absmax block (default 64). */
  readonly blockSize: number | undefined;
  readonly int4Method: "rtn" | "mse" | "hqq" | "awq" | "gptq" | undefined;
  /** `--mixed`: q4/q4f16 with mixed precision within this budget (needs --calib-data). */
  readonly mixed: { readonly maxSize: MaxSize } | undefined;
  /** `--accuracy-level`: q4/q4f16 MatMulNBits accuracy_level. */
  readonly accuracyLevel: 0 | 1 | 2 | 3 | 4 | undefined;
  readonly checkSamples: number;
  readonly minSqnr: number;
  readonly json: boolean;
}

/** The float models of a transformers.js model directory (files a preset wrote are skipped). */
export function presetInputs(input: string, suffixes: readonly string[]): string[] {
  if (!existsSync(input)) throw new ZeropointError("io-error", `${input} does not exist`);
  if (!statSync(input).isDirectory()) return [input];
  const folder = existsSync(join(input, "onnx")) ? join(input, "onnx") : input;
  const files = readdirSync(folder)
    .filter((f) => f.endsWith(".onnx") && !suffixes.some((s) => f.endsWith(`${s}.onnx`)))
    .sort()
    .map((f) => join(folder, f));
  if (files.length === 0) throw new ZeropointError("io-error", `no float .onnx model in ${folder}`);
  return files;
}

/**
 * Runs `zeropoint quantize <dir or model.onnx> --preset q8|int8|uint8|fp16|q4|q4f16|bnb4|all`: writes
 * `<name><suffix>.onnx` per float model and preset (transformers.js' file names), checks each
 * against its float model on the same inputs, and reports size and SQNR. Returns the JSON report.
 */
export async function runPresets(flags: PresetFlags, out: (line: string) => void): Promise<Record<string, unknown>> {
  const onnx = await loadOnnxAdapter();
  const table_ = onnx.TRANSFORMERS_JS_PRESETS as Record<string, { suffix: string; summary: string }>;
  const names = flags.presets.includes("all") ? [...onnx.TRANSFORMERS_JS_PRESET_NAMES] : [...flags.presets];
  for (const p of names)
    if (!(p in table_))
      throw new UsageError(`--preset ${p}: one of ${[...onnx.TRANSFORMERS_JS_PRESET_NAMES, "all"].join(", ")}`);
  if (flags.mixed !== undefined && flags.calibData === undefined)
    throw new UsageError("--mixed ranks layers on calibration data: add --calib-data");
  if (flags.mixed !== undefined && !names.some((p) => p === "q4" || p === "q4f16"))
    throw new UsageError("--mixed applies to --preset q4 and q4f16");
  const suffixes = Object.values(table_).map((e) => e.suffix);
  const files = presetInputs(flags.input, suffixes);
  const rows: Record<string, unknown>[] = [];
  let degraded: string | null = null;
  for (const file of files) {
    const outDir = resolve(flags.output ?? dirname(file));
    mkdirSync(outDir, { recursive: true });
    // External data: leave the weights in their file (read one tensor at a time, written back as
    // external data; onnxruntime reads them from there for calibration and the check), so a model
    // of any size quantizes in bounded memory.
    const lazy = onnx.externalDataFiles(file).length > 0;
    const { model } = onnx.loadModel(file, lazy ? { externalData: "lazy" } : {});
    const inputs = onnx.modelInputSpecs(model);
    const dataOptions = { batchSize: flags.batchSize, inputShapes: {}, images: { layout: "nchw" as const } };
    const data =
      flags.calibData === undefined
        ? undefined
        : loadModelData(flags.calibData, inputs, { ...dataOptions, samples: flags.samples });
    const checkData = data ?? loadModelData("random", inputs, { ...dataOptions, samples: flags.checkSamples });
    const checkBatches = await takeBatches(
      checkData.source as () => AsyncIterable<import("@zeropoint/core").CalibrationBatch>,
      inputs,
      flags.checkSamples,
    );
    for (const preset of names) {
      const entry = table_[preset] as { suffix: string };
      const target = join(outDir, `${basename(file, ".onnx")}${entry.suffix}.onnx`);
      assertOutputsSafe([file, ...onnx.externalDataFiles(file)], [{ flag: "--preset output", path: target }]);
      if (!flags.json) out(`${basename(file)} -> ${basename(target)} (${preset})`);
      const result = await onnx.quantizePreset(model, preset as never, {
        ...(flags.blockSize !== undefined ? { blockSize: flags.blockSize } : {}),
        ...(flags.int4Method !== undefined ? { int4Method: flags.int4Method } : {}),
        ...(flags.accuracyLevel !== undefined ? { accuracyLevel: flags.accuracyLevel } : {}),
        ...(data !== undefined ? { calibrationData: data.source } : {}),
        ...(flags.mixed !== undefined && (preset === "q4" || preset === "q4f16") ? { mixed: flags.mixed } : {}),
      });
      if (result.report.mixed !== undefined && !flags.json) out(mixedLayerTable(result.report.mixed.layers));
      const check = await onnx.checkQuantizedModel(model, result.model, checkBatches, {});
      const written = onnx.saveModel(result.model, target, lazy ? { externalData: "always" } : {});
      const size = written.modelBytes + written.dataBytes;
      const low = check.outputs.filter((o) => o.sqnr < flags.minSqnr);
      if (low.length > 0 && degraded === null)
        degraded = `${basename(target)}: ${low.map((o) => `${o.name} ${o.sqnr.toFixed(1)} dB`).join(", ")} below --min-sqnr ${flags.minSqnr} dB${checkData.synthetic ? " (synthetic inputs)" : ""}`;
      rows.push({
        model: file,
        preset,
        output: target,
        sizes: { float: check.floatBytes, preset: size, ratio: size / check.floatBytes },
        outputs: check.outputs,
        quantizedNodes: result.report.quantize?.quantizedNodes.length ?? 0,
        float32Nodes: result.report.float16?.float32Nodes ?? [],
        choices: result.report.choices,
        ...(result.report.mixed !== undefined ? { mixed: result.report.mixed } : {}),
      });
    }
  }
  const report = { input: flags.input, presets: names, data: flags.calibData ?? "random", files: rows, degraded };
  if (flags.json) return report;
  out("");
  out(presetTable(rows));
  if (degraded !== null) out(`degraded: ${degraded}`);
  return report;
}

/** The summary table of a `--preset` run: one row per file written. */
function presetTable(rows: readonly Record<string, unknown>[]): string {
  return table(
    ["file", "preset", "size", "ratio", "min SQNR", "notes"],
    rows.map((r) => {
      const s = r.sizes as { preset: number; ratio: number };
      const outputs = r.outputs as { sqnr: number }[];
      return [
        basename(r.output as string),
        r.preset as string,
        bytes(s.preset),
        `${s.ratio.toFixed(3)}x`,
        db(Math.min(...outputs.map((o) => o.sqnr))),
        (r.choices as string[]).join("; "),
      ];
    }),
  );
}
