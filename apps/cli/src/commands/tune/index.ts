import { parseArgs } from "node:util";
import { TARGET_CPUS, type TargetCpu } from "@zeropoint/core";
import type { CliCommand, ParsedValues } from "../../cli/command.js";
import { checkedMaxLoss, oneOf, parseInputShapes, positiveInt } from "../../cli/flags.js";
import { UsageError } from "../../errors.js";
import { parseDuration, runTune, type TuneFlags } from "./run-tune.js";
import { runTuneBits, tuneBitsFlags } from "./tune-bits.js";

/** Flags of `zeropoint tune`. */
export const options = {
  output: { type: "string", short: "o" },
  "calib-data": { type: "string" },
  "eval-data": { type: "string" },
  "holdout-data": { type: "string" },
  "max-loss": { type: "string" },
  objective: { type: "string" },
  strategy: { type: "string" },
  "max-trials": { type: "string" },
  timeout: { type: "string" },
  history: { type: "string" },
  "latency-profile": { type: "string" },
  "latency-budget": { type: "string" },
  samples: { type: "string" },
  report: { type: "string" },
  "target-cpu": { type: "string" },
  "input-shape": { type: "string", multiple: true },
  input: { type: "string", multiple: true },
  "vocab-size": { type: "string" },
  "batch-size": { type: "string" },
  "eval-samples": { type: "string" },
  bits: { type: "string" },
  "int4-method": { type: "string" },
  "block-size": { type: "string" },
  "max-size": { type: "string" },
  json: { type: "boolean" },
} as const;

type Values = ParsedValues<typeof options>;

/** The flags of a tune run (not `--bits`). */
function tuneFlags(values: Values, input: string): TuneFlags {
  return {
    input,
    output: values.output as string,
    calibData: values["calib-data"] as string,
    evalData: values["eval-data"] as string,
    holdoutData: values["holdout-data"],
    maxLoss: checkedMaxLoss(values["max-loss"] ?? "0.5%"),
    objective: oneOf("objective", values.objective, ["latency", "size", "accuracy"] as const, "latency"),
    strategy: oneOf("strategy", values.strategy, ["basic", "sensitivity"] as const, "basic"),
    maxTrials: positiveInt("max-trials", values["max-trials"], 100),
    timeoutMs: values.timeout === undefined ? Number.POSITIVE_INFINITY : parseDuration(values.timeout),
    history: values.history,
    latencyProfile: values["latency-profile"],
    latencyBudgetMs: values["latency-budget"] === undefined ? 60_000 : parseDuration(values["latency-budget"]),
    samples: positiveInt("samples", values.samples, 256),
    report: values.report,
    targetCpu: oneOf<TargetCpu>("target-cpu", values["target-cpu"], TARGET_CPUS, "auto"),
    inputShapes: parseInputShapes(values["input-shape"]),
    inputValues: values.input ?? [],
    vocabSize: values["vocab-size"] === undefined ? undefined : positiveInt("vocab-size", values["vocab-size"], 1),
    batchSize: positiveInt("batch-size", values["batch-size"], 32),
    evalSamples: positiveInt("eval-samples", values["eval-samples"], 2000),
    json: values.json === true,
  };
}

/** `zeropoint tune <model>`: the fastest (or smallest) model within a loss budget on evaluation data. */
export const tuneCommand: CliCommand = {
  name: "tune",
  examples: `examples:
  zeropoint tune model.onnx -o model.tuned.onnx --calib-data mnist:train --eval-data mnist:test-even --max-loss 0.5%`,
  async run(args, out) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options });
    if (positionals.length !== 1) throw new UsageError("tune takes one input model");
    if (values.output === undefined) throw new UsageError("tune needs -o <output>");
    if (values["calib-data"] === undefined || values["eval-data"] === undefined)
      throw new UsageError("tune needs --calib-data and --eval-data");
    const report =
      values.bits !== undefined
        ? await runTuneBits(
            tuneBitsFlags(values, positionals[0] as string, {
              positiveInt,
              maxLoss: checkedMaxLoss,
              inputShapes: parseInputShapes,
              int4Method: (v) => oneOf("int4-method", v, ["rtn", "mse", "hqq", "awq", "gptq"] as const, "gptq"),
            }),
            out,
          )
        : await runTune(tuneFlags(values, positionals[0] as string), out);
    if (values.json) out(JSON.stringify(report, null, 2));
    return report.status === "met" ? 0 : 3;
  },
};
