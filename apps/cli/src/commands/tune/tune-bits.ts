import { metricThreshold, parseCriterion, type UpgradeStep, upgradeOrder } from "@zeropoint/core";
import { loadOnnxAdapter } from "../../adapters.js";
import { UsageError } from "../../errors.js";
import { assertOutputsSafe } from "../../output-guard.js";
import { bytes, table } from "../../report.js";
import { type MaxSize, parseMaxSize } from "../quantize/mixed-precision.js";
import { type TuneFlags, tuneData } from "./run-tune.js";

/** `zeropoint tune --bits 4,8,16`: the flags of tune it uses, plus the precisions and int4 settings. */
export interface TuneBitsFlags
  extends Pick<
    TuneFlags,
    | "input"
    | "output"
    | "calibData"
    | "evalData"
    | "maxLoss"
    | "samples"
    | "inputShapes"
    | "inputValues"
    | "vocabSize"
    | "batchSize"
    | "evalSamples"
    | "json"
  > {
  readonly bits: readonly (4 | 8 | 16)[];
  readonly int4Method: "rtn" | "mse" | "hqq" | "awq" | "gptq";
  readonly blockSize: number;
  /** A size cap for the result (ratio of the all-int4 size, or bytes); default none. */
  readonly maxSize: MaxSize | undefined;
}

/**
 * Mixed precision with a loss budget: every MatMul's int4 / 8-bit / float choices are ranked by
 * measured relative output error per byte on the calibration data (the order `--mixed` buys in),
 * and the shortest prefix of that order whose model meets `--max-loss` on the evaluation data is
 * found by bisection (each probe quantizes and scores one model), so the model written is the
 * smallest of the order that meets the criterion. Bisection assumes more upgrades never score
 * worse; every probe is listed, so a violation would show. Nothing is written when even the
 * longest allowed prefix misses (exit 3, as tune).
 */
export async function runTuneBits(flags: TuneBitsFlags, out: (line: string) => void): Promise<Record<string, unknown>> {
  const started = Date.now();
  const say = (line: string) => {
    if (!flags.json) out(line);
  };
  const { onnx, model, calibration, scorer, floatMetric, threshold } = await setup(flags, say);
  const int4 = { blockSize: flags.blockSize, int4Method: flags.int4Method, calibrationData: calibration.source };
  const candidates = await onnx.mixedPrecisionCandidates(model, { ...int4, bits: [...flags.bits] });
  const steps = upgradeOrder(candidates);
  const build = async (k: number) => {
    const layerBits: Record<string, 4 | 8 | 16> = Object.fromEntries(candidates.map((c) => [c.name, 4 as const]));
    for (const s of steps.slice(0, k)) layerBits[s.name] = s.bits as 4 | 8 | 16;
    const { model: q } = await onnx.quantizeWeightOnly(model, {
      ...int4,
      weightType: "int4",
      int4OutputProjection: "int4",
      layerBits,
    });
    return { model: q, layerBits, bytes: onnx.encodeModel(q) };
  };
  const probes = new Map<number, { metric: number; size: number }>();
  const probe = async (k: number) => {
    const known = probes.get(k);
    if (known !== undefined) return known;
    const built = await build(k);
    const result = { metric: await scorer.score(built.bytes), size: built.bytes.length };
    probes.set(k, result);
    say(
      `  ${k} of ${steps.length} upgrades: metric ${result.metric.toFixed(5)} (needs >= ${threshold.toFixed(5)}), ${bytes(result.size)}`,
    );
    return result;
  };
  // The longest prefix the size cap allows.
  const base = await probe(0);
  const cap =
    flags.maxSize === undefined
      ? Number.POSITIVE_INFINITY
      : "ratio" in flags.maxSize
        ? flags.maxSize.ratio * base.size
        : flags.maxSize.bytes;
  let limit = steps.length;
  while (limit > 0 && base.size + (steps[limit - 1] as UpgradeStep).extraBytes > cap) limit--;
  const chosen = await shortestMeeting(limit, async (k) => (await probe(k)).metric >= threshold);
  const report: Record<string, unknown> = {
    input: flags.input,
    output: chosen === undefined ? null : flags.output,
    criterion: flags.maxLoss,
    floatMetric,
    threshold,
    bits: flags.bits,
    int4Method: flags.int4Method,
    steps: steps.length,
    probes: [...probes].sort((a, b) => a[0] - b[0]).map(([k, r]) => ({ upgrades: k, ...r })),
    status: chosen === undefined ? "not-met" : "met",
    seconds: (Date.now() - started) / 1000,
  };
  if (chosen === undefined) {
    say(`  no prefix within the size cap meets ${flags.maxLoss}: nothing written`);
    return report;
  }
  const built = await build(chosen);
  onnx.saveModel(built.model, flags.output);
  Object.assign(report, {
    layers: chosenLayers(candidates, built.layerBits),
    upgrades: chosen,
    metric: probes.get(chosen)?.metric,
    size: probes.get(chosen)?.size,
  });
  say("");
  say(layerChoiceTable(report.layers as ReturnType<typeof chosenLayers>));
  say(
    `chose ${chosen} of ${steps.length} upgrades: metric ${(report.metric as number).toFixed(4)} (float ${floatMetric.toFixed(4)}), ${bytes(report.size as number)}; wrote ${flags.output}`,
  );
  return report;
}

/** Each candidate layer with the bits a prefix gave it and that choice's bytes and error. */
function chosenLayers(
  candidates: readonly {
    name: string;
    opType: string;
    choices: readonly { bits: number; bytes: number; error: number }[];
  }[],
  layerBits: Readonly<Record<string, number>>,
) {
  return candidates.map((c) => {
    const bits = layerBits[c.name] ?? 4;
    const choice = c.choices.find((x) => x.bits === bits);
    return { name: c.name, opType: c.opType, bits, bytes: choice?.bytes ?? 0, error: choice?.error ?? 0 };
  });
}

function layerChoiceTable(layers: ReturnType<typeof chosenLayers>): string {
  return table(
    ["layer", "op", "kept at", "rel. error"],
    layers.map((l) => [l.name, l.opType, l.bits === 16 ? "float" : `${l.bits}-bit`, l.error.toExponential(2)]),
  );
}

/** Loads the model and data of a `tune --bits` run and scores float once. */
async function setup(flags: TuneBitsFlags, say: (line: string) => void) {
  const onnx = await loadOnnxAdapter();
  if (!flags.bits.includes(4)) throw new UsageError("--bits must include 4 (the base precision)");
  const criterion = parseCriterion(flags.maxLoss);
  assertOutputsSafe(
    [flags.input, ...onnx.externalDataFiles(flags.input)],
    [
      { flag: "-o", path: flags.output },
      { flag: "-o (external data)", path: `${flags.output}.data` },
    ],
  );
  const { model } = onnx.loadModel(flags.input);
  const { calibration, evaluation } = await tuneData(flags, onnx.modelInputSpecs(model));
  say(`zeropoint tune --bits ${flags.bits.join(",")} ${flags.input} -> ${flags.output}`);
  const scorer = await onnx.createOnnxTuningAdapter(model, { calibrationData: calibration.source, evaluation });
  const floatMetric = await scorer.floatMetric();
  const threshold = metricThreshold(criterion, floatMetric);
  return { onnx, model, calibration, scorer, floatMetric, threshold };
}

/**
 * The smallest k in 0..limit with `meets(k)`, by bisection between 0 and limit (assuming a prefix
 * that meets stays met when extended), or undefined when not even `limit` meets.
 */
export async function shortestMeeting(
  limit: number,
  meets: (k: number) => Promise<boolean>,
): Promise<number | undefined> {
  if (await meets(0)) return 0;
  if (limit === 0 || !(await meets(limit))) return undefined;
  let lo = 0;
  let hi = limit;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (await meets(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** `zeropoint tune --bits` flags from parseArgs values. */
export function tuneBitsFlags(
  values: Readonly<Record<string, string | boolean | string[] | undefined>>,
  input: string,
  parse: {
    positiveInt: (flag: string, value: string | undefined, fallback: number) => number;
    maxLoss: (text: string) => string;
    inputShapes: (specs: readonly string[] | undefined) => Record<string, number[]>;
    int4Method: (value: string | undefined) => TuneBitsFlags["int4Method"];
  },
): TuneBitsFlags {
  const str = (k: string) => values[k] as string | undefined;
  const bitsOnly = [
    "objective",
    "strategy",
    "max-trials",
    "timeout",
    "history",
    "latency-profile",
    "latency-budget",
    "report",
    "target-cpu",
    "holdout-data",
  ];
  const extra = bitsOnly.filter((k) => values[k] !== undefined);
  if (extra.length > 0) throw new UsageError(`--bits does not take ${extra.map((k) => `--${k}`).join(", ")}`);
  const bits = (str("bits") ?? "").split(",").map((b) => {
    if (!["4", "8", "16"].includes(b.trim())) throw new UsageError(`--bits takes 4, 8 and 16, got ${b}`);
    return Number(b) as 4 | 8 | 16;
  });
  return {
    input,
    output: str("output") as string,
    calibData: str("calib-data") as string,
    evalData: str("eval-data") as string,
    maxLoss: parse.maxLoss(str("max-loss") ?? "0.5%"),
    samples: parse.positiveInt("samples", str("samples"), 256),
    inputShapes: parse.inputShapes(values["input-shape"] as string[] | undefined),
    inputValues: (values.input as string[] | undefined) ?? [],
    vocabSize: str("vocab-size") === undefined ? undefined : parse.positiveInt("vocab-size", str("vocab-size"), 1),
    batchSize: parse.positiveInt("batch-size", str("batch-size"), 32),
    evalSamples: parse.positiveInt("eval-samples", str("eval-samples"), 2000),
    json: values.json === true,
    bits,
    int4Method: parse.int4Method(str("int4-method")),
    blockSize: parse.positiveInt("block-size", str("block-size"), 32),
    maxSize: str("max-size") === undefined ? undefined : parseMaxSize(str("max-size") as string),
  };
}
