import { parseArgs } from "node:util";
import { CALIBRATION_METHODS, type CalibrationMethod, TARGET_CPUS, type TargetCpu } from "@zeropoint/core";
import { modelKind } from "../../adapters.js";
import type { CliCommand, ParsedValues } from "../../cli/command.js";
import {
  accuracyLevelFlag,
  finiteNumber,
  imageFlags,
  list,
  mixedFlag,
  oneOf,
  parseInputShapes,
  positiveInt,
  reduceRangeFlag,
} from "../../cli/flags.js";
import { UsageError } from "../../errors.js";
import { runPresets } from "./presets.js";
import { type QuantizeFlags, runQuantize } from "./quantize-onnx.js";
import { runQuantizeTfjs, type TfjsQuantizeFlags } from "./quantize-tfjs.js";

/** Flags of `zeropoint quantize`. */
export const options = {
  output: { type: "string", short: "o" },
  approach: { type: "string" },
  format: { type: "string" },
  "per-channel": { type: "boolean" },
  "per-tensor": { type: "boolean" },
  "activation-type": { type: "string" },
  "weight-type": { type: "string" },
  calibrate: { type: "string" },
  "calib-data": { type: "string" },
  samples: { type: "string" },
  "batch-size": { type: "string" },
  "input-shape": { type: "string", multiple: true },
  "exclude-nodes": { type: "string" },
  "op-types": { type: "string" },
  plan: { type: "string" },
  "reduce-range": { type: "boolean" },
  "no-reduce-range": { type: "boolean" },
  "target-cpu": { type: "string" },
  "no-check-latency": { type: "boolean" },
  "allow-dir": { type: "string", multiple: true },
  "symmetric-activations": { type: "boolean" },
  "block-size": { type: "string" },
  "int4-format": { type: "string" },
  "int4-method": { type: "string" },
  "accuracy-level": { type: "string" },
  "check-samples": { type: "string" },
  "weight-range": { type: "string" },
  "min-sqnr": { type: "string" },
  input: { type: "string", multiple: true },
  "vocab-size": { type: "string" },
  "allow-degraded": { type: "boolean" },
  "weight-bits": { type: "string" },
  backend: { type: "string" },
  target: { type: "string" },
  resize: { type: "string" },
  layout: { type: "string" },
  mean: { type: "string" },
  std: { type: "string" },
  preset: { type: "string", multiple: true },
  mixed: { type: "boolean" },
  "max-size": { type: "string" },
  json: { type: "boolean" },
} as const;

type Values = ParsedValues<typeof options>;

/** Flags that only some approaches (or only one framework) use: passing them elsewhere is an error, not a no-op. */
const ONNX_STATIC_ONLY = ["format", "activation-type", "calibrate", "symmetric-activations", "target"] as const;
const ONNX_INT4_ONLY = ["block-size", "int4-format", "int4-method", "mixed", "max-size", "accuracy-level"] as const;
const TFJS_ONLY = ["weight-range", "weight-bits", "backend"] as const;
const ONNX_ONLY = [
  "format",
  "activation-type",
  "exclude-nodes",
  "op-types",
  "plan",
  "reduce-range",
  "no-reduce-range",
  "target-cpu",
  "symmetric-activations",
  "block-size",
  "int4-format",
  "target",
  "input",
  "per-tensor",
  "vocab-size",
  "allow-degraded",
  "allow-dir",
  "no-check-latency",
] as const;

/** Refuses flags that would change nothing for this model kind and approach (a silent no-op misleads). */
function rejectInapplicable(
  values: Record<string, unknown>,
  kind: string,
  approach: string,
  weightType: string | undefined,
): void {
  const given = (flag: string) => values[flag] !== undefined;
  const refuse = (flag: string, why: string) => {
    throw new UsageError(`--${flag} ${why}; it would change nothing here`);
  };
  if (kind === "tfjs") {
    for (const f of ONNX_ONLY) if (given(f)) refuse(f, "applies to ONNX models, not tfjs");
    return;
  }
  for (const f of TFJS_ONLY) if (given(f)) refuse(f, "applies to tfjs models, not ONNX");
  if (approach !== "static") for (const f of ONNX_STATIC_ONLY) if (given(f)) refuse(f, "applies to --approach static");
  if (!(approach === "weight-only" && weightType === "int4"))
    for (const f of ONNX_INT4_ONLY) if (given(f)) refuse(f, "applies to --approach weight-only --weight-type int4");
}

/** `quantize --preset`: transformers.js files (flags other than the ones below do not apply). */
async function quantizePresets(
  values: Record<string, string | boolean | string[] | undefined>,
  input: string,
  out: (line: string) => void,
): Promise<number> {
  const presetFlags = new Set([
    "preset",
    "output",
    "calib-data",
    "samples",
    "batch-size",
    "block-size",
    "int4-method",
    "mixed",
    "max-size",
    "accuracy-level",
    "check-samples",
    "min-sqnr",
    "json",
  ]);
  const extra = Object.keys(values).filter((k) => values[k] !== undefined && !presetFlags.has(k));
  if (extra.length > 0) throw new UsageError(`--preset does not take ${extra.map((k) => `--${k}`).join(", ")}`);
  const str = (k: string) => values[k] as string | undefined;
  const report = await runPresets(
    {
      input,
      output: str("output"),
      presets: (values.preset as string[]).flatMap((p) => p.split(",")),
      calibData: str("calib-data"),
      samples: positiveInt("samples", str("samples"), 128),
      batchSize: positiveInt("batch-size", str("batch-size"), 16),
      blockSize: str("block-size") === undefined ? undefined : positiveInt("block-size", str("block-size"), 32),
      int4Method:
        str("int4-method") === undefined
          ? undefined
          : oneOf("int4-method", str("int4-method"), ["rtn", "mse", "hqq", "awq", "gptq"] as const, "hqq"),
      mixed: mixedFlag(values),
      accuracyLevel: accuracyLevelFlag(str("accuracy-level")),
      checkSamples: positiveInt("check-samples", str("check-samples"), 64),
      minSqnr: finiteNumber("min-sqnr", str("min-sqnr"), 20),
      json: values.json === true,
    },
    out,
  );
  if (values.json === true) out(JSON.stringify(report, null, 2));
  return report.degraded !== null ? 3 : 0;
}

/** The flags of a tfjs model's quantize run. */
function tfjsFlags(values: Values, input: string): TfjsQuantizeFlags {
  const minSqnr = values["min-sqnr"] === undefined ? undefined : Number(values["min-sqnr"]);
  if (minSqnr !== undefined && !Number.isFinite(minSqnr))
    throw new UsageError(`--min-sqnr must be a number, got ${values["min-sqnr"]}`);
  return {
    input,
    output: values.output as string,
    allowDirs: values["allow-dir"] ?? [],
    approach: oneOf("approach", values.approach, ["static", "dynamic", "weight-only"] as const, "static"),
    weightType: oneOf("weight-type", values["weight-type"], ["int8", "uint8", "uint16", "float16"] as const, "uint8"),
    weightRange: oneOf("weight-range", values["weight-range"], ["mse", "minmax", "percentile"] as const, "mse"),
    minSqnr,
    weightBits: positiveInt("weight-bits", values["weight-bits"], 8),
    perChannel: values["per-channel"] === true,
    calibrate: oneOf<CalibrationMethod>("calibrate", values.calibrate, CALIBRATION_METHODS, "minmax"),
    calibData: values["calib-data"],
    samples: positiveInt("samples", values.samples, 256),
    batchSize: positiveInt("batch-size", values["batch-size"], 32),
    checkSamples: positiveInt("check-samples", values["check-samples"], 64),
    backend: values.backend,
    inputShapes: parseInputShapes(values["input-shape"]),
    images: imageFlags(values, "nhwc"),
    json: values.json === true,
  };
}

/** The flags of an ONNX model's quantize run. */
function onnxFlags(values: Values, input: string): QuantizeFlags {
  return {
    input,
    output: values.output as string,
    approach: oneOf("approach", values.approach, ["static", "dynamic", "weight-only"] as const, "static"),
    format: oneOf("format", values.format, ["qdq", "qoperator"] as const, "qdq"),
    perChannel: values["per-channel"] === true,
    perTensor: values["per-tensor"] === true,
    activationType: oneOf(
      "activation-type",
      values["activation-type"],
      ["uint8", "int8", "uint16", "int16"] as const,
      "uint8",
    ),
    weightType: oneOf("weight-type", values["weight-type"], ["int8", "uint8", "int4"] as const, "int8"),
    calibrate: oneOf<CalibrationMethod>("calibrate", values.calibrate, CALIBRATION_METHODS, "minmax"),
    calibData: values["calib-data"],
    samples: positiveInt("samples", values.samples, 256),
    batchSize: positiveInt("batch-size", values["batch-size"], 32),
    excludeNodes: list(values["exclude-nodes"]),
    opTypes: list(values["op-types"]),
    plan: values.plan,
    inputShapes: parseInputShapes(values["input-shape"]),
    reduceRange: reduceRangeFlag(values["reduce-range"], values["no-reduce-range"]),
    targetCpu: oneOf<TargetCpu>("target-cpu", values["target-cpu"], TARGET_CPUS, "auto"),
    checkLatency: values["no-check-latency"] !== true,
    allowDirs: values["allow-dir"] ?? [],
    symmetricActivations: values["symmetric-activations"] === true,
    blockSize: positiveInt("block-size", values["block-size"], 32),
    int4Format: oneOf(
      "int4-format",
      values["int4-format"],
      ["matmul-nbits", "dequantize-linear"] as const,
      "matmul-nbits",
    ),
    checkSamples: positiveInt("check-samples", values["check-samples"], 64),
    int4Method: oneOf("int4-method", values["int4-method"], ["rtn", "mse", "hqq", "awq", "gptq"] as const, "rtn"),
    mixed: mixedFlag(values),
    accuracyLevel: accuracyLevelFlag(values["accuracy-level"]),
    target: oneOf("target", values.target, ["node", "web"] as const, "node"),
    images: imageFlags(values, "nchw"),
    inputValues: values.input ?? [],
    vocabSize: values["vocab-size"] === undefined ? undefined : positiveInt("vocab-size", values["vocab-size"], 1),
    minSqnr: finiteNumber("min-sqnr", values["min-sqnr"], 20),
    allowDegraded: values["allow-degraded"] === true,
    json: values.json === true,
  };
}

/** `zeropoint quantize <model>`: an ONNX or tfjs model quantized, checked against float, written atomically. */
export const quantizeCommand: CliCommand = {
  name: "quantize",
  examples: `examples:
  zeropoint quantize model.onnx -o model.int8.onnx --calib-data ./samples --per-channel
  zeropoint quantize model.onnx -o model.dyn.onnx --approach dynamic
  zeropoint quantize model.onnx -o model.int8.onnx --calib-data ./samples --target-cpu avx2
  zeropoint quantize tfjs-model/model.json -o tfjs-out --approach weight-only --weight-type uint8`,
  async run(args, out) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options });
    if (positionals.length !== 1) throw new UsageError("quantize takes one input model");
    const input = positionals[0] as string;
    if (values.preset !== undefined) return await quantizePresets(values, input, out);
    if (values.output === undefined) throw new UsageError("quantize needs -o <output>");
    const kind = await modelKind(input);
    rejectInapplicable(values, kind, values.approach ?? "static", values["weight-type"]);
    if (kind === "tfjs") {
      const report = await runQuantizeTfjs(tfjsFlags(values, input), out);
      if (values.json) out(JSON.stringify(report, null, 2));
      return 0;
    }
    const flags = onnxFlags(values, input);
    const report = await runQuantize(flags, out);
    if (flags.json) out(JSON.stringify(report, null, 2));
    return report.degraded !== null && !flags.allowDegraded ? 3 : 0;
  },
};
