import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import {
  CALIBRATION_METHODS,
  type CalibrationMethod,
  parseCriterion,
  TARGET_CPUS,
  type TargetCpu,
} from "@zeropoint/core";
import { modelKind } from "./adapters.js";
import { runCompare } from "./commands/compare.js";
import { runDoctor } from "./commands/doctor.js";
import { runInspect } from "./commands/inspect.js";
import { runMatrix } from "./commands/matrix.js";
import { type MaxSize, parseMaxSize } from "./commands/mixed-precision.js";
import { runPresets } from "./commands/preset.js";
import { type QuantizeFlags, runQuantize } from "./commands/quantize.js";
import { runQuantizeTfjs } from "./commands/tfjs.js";
import { parseDuration, runTune } from "./commands/tune.js";
import { runTuneBits, tuneBitsFlags } from "./commands/tune-bits.js";
import { errorJson, errorLine, UsageError } from "./errors.js";

const HELP = `zeropoint: quantize neural networks from Node

usage:
  zeropoint quantize <model.onnx> -o <out.onnx> [options]
  zeropoint quantize <dir>/model.json -o <outdir> [options]     (TensorFlow.js, needs @zeropoint/tfjs)
  zeropoint quantize <model dir or .onnx> --preset q8|int8|uint8|fp16|q4|q4f16|bnb4|all [-o <dir>]
                                          transformers.js files (onnx/model_quantized.onnx, model_fp16.onnx, ...)
                                          beside the float ones; takes --calib-data (q4: GPTQ instead of HQQ),
                                          --block-size, --int4-method, --mixed, --max-size, --accuracy-level,
                                          --check-samples, --min-sqnr
  zeropoint inspect <model.onnx | model.json> [--json]
  zeropoint matrix [--format md|json|html] [--results <repo>]
  zeropoint compare <model.onnx> [--calib-data mnist:train] [--eval-data mnist] [--eval-samples 2000] [--input-shape name=d0,d1,...] [--recipe static-default|recipe.json] [--out report.html] [--json]
  zeropoint tune <model.onnx> -o <out.onnx> --calib-data <source> --eval-data <source> [options]
  zeropoint doctor [--json]                                     this machine's integer kernel (onnxruntime)

quantize options:
  --approach static|dynamic|weight-only   default static
  --format qdq|qoperator                  static output format, default qdq
  --per-channel                           per-channel weights (weight-only: the default)
  --per-tensor                            weight-only: one scale per tensor instead
  --activation-type uint8|int8|uint16|int16   default uint8
  --weight-type int8|uint8|int4           default int8 (int4: weight-only); tfjs weight-only: uint8|uint16|float16
  --calibrate minmax|entropy|percentile|histogram|mse|moving-average-minmax   default minmax
  --calib-data <source>                   mnist[:train|test|test-even|test-odd], random, or a directory of .npy files or PNG/JPEG images
  --resize HxW                            resize images (bilinear) to the model's input size
  --layout nchw|nhwc                      image tensor layout, default nchw (ONNX) or nhwc (tfjs)
  --mean m | r,g,b, --std s | r,g,b       image normalization on [0, 1] pixel values
  --samples N                             calibration samples, default 256
  --batch-size N                          calibration batch, default 32
  --input-shape name=d0,d1,...            fix symbolic input dims (repeatable; only where no data tells them)
  --input name=value[,value...]           pin an input to a constant, e.g. --input sr=16000 (repeatable)
  --vocab-size N                          synthetic ids below N for integer inputs that feed no embedding table
  --min-sqnr dB                           ONNX: exit 3 when an output's SQNR against float is below this, default 20
  --allow-degraded                        ONNX: exit 0 even when degraded or nothing was quantized
  --exclude-nodes a,b                     keep these nodes float
  --op-types Conv,MatMul                  only quantize these op types
  --plan plan.json                        a zeropoint recipe/plan with per-node overrides
  --reduce-range, --no-reduce-range       7-bit weights; default: on where uint8 x int8 saturates (x86 without VNNI)
  --target-cpu auto|avx2|avx512|vnni|arm64|wasm   the CPU the model is for, default auto (this machine)
  --no-check-latency                      skip timing the output against the float model
  --allow-dir <dir>                       let external data / weight shards resolve into <dir> too (repeatable)
  --symmetric-activations                 symmetric activations (disables Relu folding)
  --block-size N                          int4 block size, default 32
  --int4-format matmul-nbits|dequantize-linear   int4 storage, default matmul-nbits (dequantize-linear: opset 21, also Conv)
  --int4-method rtn|mse|hqq|awq|gptq      int4 MatMulNBits blocks: round to nearest (default), MSE clipping, HQQ (data-free,
                                          float zero points), AWQ or GPTQ (both fitted on --calib-data)
  --mixed                                 int4 (and --preset q4/q4f16): mixed precision; the MatMuls with the largest
                                          output error on --calib-data go to 8-bit MatMulNBits or float
  --max-size 1.25x|12MB                   --mixed's budget: a ratio of the all-int4 model (default 1.25x) or a size
  --accuracy-level 0..4                   MatMulNBits accuracy_level (4: int8 activations, onnxruntime's fast CPU path)
  --check-samples N                       samples for the float-vs-quantized check, default 64
  --target node|web                       web: output onnxruntime-web runs in all its backends
  --json                                  machine-readable output on stdout

tfjs options (model.json input; static is emulated int8: fake-quantized model + quantization-params.json):
  --approach weight-only|dynamic|static   dynamic is an alias of weight-only for tfjs (storage, dequantized at load)
  --weight-range mse|minmax|percentile    weight-only range per tensor, default mse
  --min-sqnr dB                           keep weights float below this SQNR (default 20 uint8, 40 uint16/float16)
  --weight-bits N                         static: symmetric weight grid width 2..8, default 8
  --per-channel                           static: per-channel Dense kernels too (convolutions always are)
  --backend wasm|cpu|tensorflow           default: tfjs-node if installed, else wasm, else cpu

doctor: prints which integer kernel onnxruntime uses here (feature flags confirmed by a probe) and the
  defaults that follow (7-bit weights where uint8 x int8 saturates).

exit codes: 0 ok, 1 error (typed, one line; JSON under --json), 2 usage, 3 degraded (quantize: nothing was
quantized or an output fell below --min-sqnr, the file is still written; tune: criterion not met, or nothing
at float speed or better)

tune options:
  --eval-data <source>                    tuning data: mnist:test-even (accuracy), or samples without labels (top-1 agreement)
  --holdout-data <source>                 scored after tuning; default mnist:test-odd when tuning on mnist:test-even
  --max-loss 0.5%|0.005abs                accuracy criterion against float, default 0.5%
  --objective latency|size|accuracy       default latency
  --strategy basic|sensitivity            default basic
  --max-trials N, --timeout 10m           search budget (default 100 trials, no timeout)
  --history tune.jsonl                    record trials; a rerun with the same file resumes
  --bits 4,8,16                           instead: int4 weight-only with mixed precision, the smallest model of the
                                          --mixed order that meets --max-loss (with --int4-method, default gptq,
                                          --block-size, --max-size 1.25x|12MB as a cap)
  --latency-profile p.json                seed the per-node search with a profile recorded on this CPU and onnxruntime
  --latency-budget 60s                    time spent timing the format candidates live (default 60s)
  --report out.html                       sensitivity chart (default <out>.sensitivity.html)
  --target-cpu auto|avx2|avx512|vnni|arm64|wasm   as for quantize
  --eval-samples N                        evaluation samples at most, default 2000 (also bounds --eval-data random)
  --input-shape, --input, --vocab-size, --batch-size   as for quantize
`;

function list(v: string | undefined): string[] | undefined {
  return v === undefined
    ? undefined
    : v
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "");
}

function parseResize(v: string): [number, number] {
  const m = /^(\d+)x(\d+)$/.exec(v);
  if (!m) throw new UsageError(`--resize expects HxW, got ${v}`);
  return [Number(m[1]), Number(m[2])];
}

function numbers(name: string, v: string): number[] {
  const values = v.split(",").map(Number);
  if (values.some((x) => !Number.isFinite(x)) || (values.length !== 1 && values.length !== 3)) {
    throw new UsageError(`--${name} expects one or three numbers, got ${v}`);
  }
  if (name === "std" && values.some((x) => x === 0)) throw new UsageError("--std must not be 0");
  return values;
}

function positiveInt(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer, got ${v}`);
  return n;
}

function oneOf<T extends string>(name: string, v: string | undefined, allowed: readonly T[], fallback: T): T {
  if (v === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(v))
    throw new UsageError(`--${name} must be one of ${allowed.join(", ")}, got ${v}`);
  return v as T;
}

/** The CLI's version, from its package.json. */
function cliVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

const EXAMPLES: Readonly<Record<string, string>> = {
  quantize: `examples:
  zeropoint quantize model.onnx -o model.int8.onnx --calib-data ./samples --per-channel
  zeropoint quantize model.onnx -o model.dyn.onnx --approach dynamic
  zeropoint quantize model.onnx -o model.int8.onnx --calib-data ./samples --target-cpu avx2
  zeropoint quantize tfjs-model/model.json -o tfjs-out --approach weight-only --weight-type uint8`,
  tune: `examples:
  zeropoint tune model.onnx -o model.tuned.onnx --calib-data mnist:train --eval-data mnist:test-even --max-loss 0.5%`,
  inspect: `examples:
  zeropoint inspect model.onnx
  zeropoint inspect tfjs-model/model.json --json`,
  compare: `examples:
  zeropoint compare model.onnx --calib-data mnist:train --eval-data mnist --out report.html`,
  matrix: `examples:
  zeropoint matrix --format md`,
  doctor: `examples:
  zeropoint doctor
  zeropoint doctor --json`,
};

/** Help for one command: its usage line, the options section that belongs to it, and examples. */
function commandHelp(command: string): string {
  const examples = EXAMPLES[command];
  if (examples === undefined) throw new UsageError(`unknown command ${command}`);
  const lines = HELP.split("\n");
  const usage = lines.filter(
    (l) => l.trimStart().startsWith(`zeropoint ${command} `) || l.trim() === `zeropoint ${command}`,
  );
  const start = lines.findIndex((l) => l.startsWith(`${command} options`));
  const section: string[] = [];
  if (start >= 0) {
    for (let i = start; i < lines.length; i++) {
      const l = lines[i] as string;
      if (i > start && l.trim() === "") break;
      section.push(l);
    }
  }
  if (command === "quantize") {
    const tfjs = lines.findIndex((l) => l.startsWith("tfjs options"));
    for (let i = tfjs; i >= 0 && i < lines.length && (lines[i] as string).trim() !== ""; i++)
      section.push(lines[i] as string);
  }
  const exits = lines.find((l) => l.startsWith("exit codes")) ?? "";
  return [`usage:`, ...usage, "", ...section, "", examples, "", exits].join("\n");
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

/** `--accuracy-level 0..4` (MatMulNBits), or undefined. */
function accuracyLevelFlag(value: string | undefined): 0 | 1 | 2 | 3 | 4 | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-4]$/.test(value)) throw new UsageError(`--accuracy-level must be 0..4, got ${value}`);
  return Number(value) as 0 | 1 | 2 | 3 | 4;
}

/** `--mixed [--max-size 1.25x|12MB]`: the size budget, or undefined without --mixed. */
function mixedFlag(values: Record<string, unknown>): { maxSize: MaxSize } | undefined {
  const max = values["max-size"] as string | undefined;
  if (values.mixed !== true) {
    if (max !== undefined) throw new UsageError("--max-size is the budget of --mixed");
    return undefined;
  }
  return { maxSize: max === undefined ? { ratio: 1.25 } : parseMaxSize(max) };
}

function checkedMaxLoss(text: string): string {
  try {
    parseCriterion(text);
  } catch (e) {
    throw new UsageError(`--max-loss: ${(e as Error).message}`);
  }
  return text;
}

function reduceRangeFlag(on: boolean | undefined, off: boolean | undefined): boolean | undefined {
  if (on === true && off === true) throw new UsageError("--reduce-range and --no-reduce-range contradict each other");
  return on === true ? true : off === true ? false : undefined;
}

/**
 * `--samples -1` would make parseArgs call "-1" an option ("argument is ambiguous"); join such a
 * value to its flag (`--samples=-1`) so the flag's own check says what is wrong with it.
 */
function joinNegativeValues(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    const next = args[i + 1];
    if (a.startsWith("--") && !a.includes("=") && next !== undefined && /^-\d/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

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

function rejectInapplicable(
  values: Record<string, unknown>,
  kind: "onnx" | "tfjs",
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

/** `--input-shape name=d0,d1,...` (repeatable) as dims per input. */
function parseInputShapes(specs: readonly string[] | undefined): Record<string, number[]> {
  const shapes: Record<string, number[]> = {};
  for (const spec of specs ?? []) {
    const m = /^([^=]+)=([\d,]+)$/.exec(spec);
    if (!m) throw new UsageError(`--input-shape expects name=d0,d1,..., got ${spec}`);
    shapes[m[1] as string] = (m[2] as string).split(",").map(Number);
  }
  return shapes;
}

function finiteNumber(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new UsageError(`--${flag} must be a number, got ${value}`);
  return n;
}

/** Entry point: returns the process exit code. Errors print one line on stderr. */
export async function main(
  argv: string[],
  out: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
): Promise<number> {
  try {
    const [command, ...restArgs] = argv;
    // --debug (stack traces on errors) is global: every command accepts it.
    const rest = joinNegativeValues(restArgs.filter((a) => a !== "--debug"));
    if (command === undefined || command === "--help" || command === "-h" || command === "help") {
      out(HELP);
      return 0;
    }
    if (command === "--version" || command === "-v") {
      out(`zeropoint ${cliVersion()}`);
      return 0;
    }
    if (restArgs.includes("--help") || restArgs.includes("-h")) {
      out(commandHelp(command));
      return 0;
    }
    if (command === "inspect") {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { json: { type: "boolean" }, "allow-dir": { type: "string", multiple: true } },
      });
      if (positionals.length !== 1) throw new UsageError("inspect takes one model path");
      const report = await runInspect(positionals[0] as string, values.json === true, out, values["allow-dir"] ?? []);
      if (values.json) out(JSON.stringify(report, null, 2));
      return 0;
    }
    if (command === "doctor") {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { json: { type: "boolean" } },
      });
      if (positionals.length !== 0) throw new UsageError("doctor takes no positional arguments");
      const report = await runDoctor(values.json === true, out);
      if (values.json) out(JSON.stringify(report, null, 2));
      return 0;
    }
    if (command === "matrix") {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { format: { type: "string" }, results: { type: "string" } },
      });
      if (positionals.length !== 0) throw new UsageError("matrix takes no positional arguments");
      await runMatrix(oneOf("format", values.format, ["md", "json", "html"] as const, "md"), values.results, out);
      return 0;
    }
    if (command === "compare") {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
          "calib-data": { type: "string" },
          samples: { type: "string" },
          "eval-data": { type: "string" },
          "eval-samples": { type: "string" },
          out: { type: "string" },
          recipe: { type: "string" },
          "input-shape": { type: "string", multiple: true },
          json: { type: "boolean" },
        },
      });
      if (positionals.length !== 1) throw new UsageError("compare takes one ONNX model");
      const report = await runCompare(
        {
          model: positionals[0] as string,
          calibData: values["calib-data"] ?? "mnist:train",
          samples: positiveInt("samples", values.samples, 256),
          evalData: values["eval-data"] ?? "mnist",
          // Bounded by default: `--eval-data random` has no natural end (it once grew to 24 GB).
          evalSamples: positiveInt("eval-samples", values["eval-samples"], 2000),
          out: values.out,
          recipe: values.recipe,
          inputShapes: parseInputShapes(values["input-shape"]),
          json: values.json === true,
        },
        out,
      );
      if (values.json) out(JSON.stringify(report, null, 2));
      return 0;
    }
    if (command === "tune") {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
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
        },
      });
      if (positionals.length !== 1) throw new UsageError("tune takes one input model");
      if (values.output === undefined) throw new UsageError("tune needs -o <output>");
      if (values["calib-data"] === undefined || values["eval-data"] === undefined)
        throw new UsageError("tune needs --calib-data and --eval-data");
      if (values.bits !== undefined) {
        const report = await runTuneBits(
          tuneBitsFlags(values, positionals[0] as string, {
            positiveInt,
            maxLoss: checkedMaxLoss,
            inputShapes: parseInputShapes,
            int4Method: (v) => oneOf("int4-method", v, ["rtn", "mse", "hqq", "awq", "gptq"] as const, "gptq"),
          }),
          out,
        );
        if (values.json) out(JSON.stringify(report, null, 2));
        return report.status === "met" ? 0 : 3;
      }
      const report = await runTune(
        {
          input: positionals[0] as string,
          output: values.output,
          calibData: values["calib-data"],
          evalData: values["eval-data"],
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
          vocabSize:
            values["vocab-size"] === undefined ? undefined : positiveInt("vocab-size", values["vocab-size"], 1),
          batchSize: positiveInt("batch-size", values["batch-size"], 32),
          evalSamples: positiveInt("eval-samples", values["eval-samples"], 2000),
          json: values.json === true,
        },
        out,
      );
      if (values.json) out(JSON.stringify(report, null, 2));
      return report.status === "met" ? 0 : 3;
    }
    if (command === "quantize") {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
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
        },
      });
      if (positionals.length !== 1) throw new UsageError("quantize takes one input model");
      if (values.preset !== undefined) return await quantizePresets(values, positionals[0] as string, out);
      if (values.output === undefined) throw new UsageError("quantize needs -o <output>");
      rejectInapplicable(
        values,
        modelKind(positionals[0] as string),
        values.approach ?? "static",
        values["weight-type"],
      );
      if (modelKind(positionals[0] as string) === "tfjs") {
        const approach = oneOf("approach", values.approach, ["static", "dynamic", "weight-only"] as const, "static");
        const minSqnr = values["min-sqnr"] === undefined ? undefined : Number(values["min-sqnr"]);
        if (minSqnr !== undefined && !Number.isFinite(minSqnr))
          throw new UsageError(`--min-sqnr must be a number, got ${values["min-sqnr"]}`);
        const report = await runQuantizeTfjs(
          {
            input: positionals[0] as string,
            output: values.output,
            allowDirs: values["allow-dir"] ?? [],
            approach,
            weightType: oneOf(
              "weight-type",
              values["weight-type"],
              ["int8", "uint8", "uint16", "float16"] as const,
              "uint8",
            ),
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
            images: {
              ...(values.resize !== undefined ? { resize: parseResize(values.resize) } : {}),
              layout: oneOf("layout", values.layout, ["nchw", "nhwc"] as const, "nhwc"),
              ...(values.mean !== undefined ? { mean: numbers("mean", values.mean) } : {}),
              ...(values.std !== undefined ? { std: numbers("std", values.std) } : {}),
            },
            json: values.json === true,
          },
          out,
        );
        if (values.json) out(JSON.stringify(report, null, 2));
        return 0;
      }
      const inputShapes = parseInputShapes(values["input-shape"]);
      const flags: QuantizeFlags = {
        input: positionals[0] as string,
        output: values.output,
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
        inputShapes,
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
        images: {
          ...(values.resize !== undefined ? { resize: parseResize(values.resize) } : {}),
          layout: oneOf("layout", values.layout, ["nchw", "nhwc"] as const, "nchw"),
          ...(values.mean !== undefined ? { mean: numbers("mean", values.mean) } : {}),
          ...(values.std !== undefined ? { std: numbers("std", values.std) } : {}),
        },
        inputValues: values.input ?? [],
        vocabSize: values["vocab-size"] === undefined ? undefined : positiveInt("vocab-size", values["vocab-size"], 1),
        minSqnr: finiteNumber("min-sqnr", values["min-sqnr"], 20),
        allowDegraded: values["allow-degraded"] === true,
        json: values.json === true,
      };
      const report = await runQuantize(flags, out);
      if (flags.json) out(JSON.stringify(report, null, 2));
      return report.degraded !== null && !flags.allowDegraded ? 3 : 0;
    }
    throw new UsageError(`unknown command ${command}`);
  } catch (error) {
    const parseError = (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
    const typed = parseError ? new UsageError((error as Error).message) : error;
    const code = typed instanceof UsageError ? 2 : 1;
    process.stderr.write(`${errorLine(typed)}\n`);
    if (argv.includes("--json")) out(errorJson(typed, code));
    if (argv.includes("--debug") && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    return code;
  }
}

const invokedDirectly = import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith("/src/main.ts");
if (invokedDirectly) process.exitCode = await main(process.argv.slice(2));
