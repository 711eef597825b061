import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseNpyTensor } from "@zeropoint/core";
import { REPO_ROOT } from "@zeropoint/test-helpers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./test-support.js";

/**
 * The real consumer: `zeropoint quantize <dir> --preset all` on the zoo's BERT-style encoder laid
 * out as a transformers.js model directory (config.json, tokenizer.json, onnx/model.onnx), then every
 * file loaded by `@huggingface/transformers` (local files only) through AutoModel and pipeline with
 * its `dtype`, on the encoder's 1,000 held-out mails, against the float model loaded the same way.
 */
const zoo = (name: string, file = "") => join(REPO_ROOT, "tooling/zoo/models", name, file);
const work = mkdtempSync(join(tmpdir(), "zeropoint-transformers-js-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const FILES: Record<string, string> = {
  q8: "model_quantized.onnx",
  int8: "model_int8.onnx",
  uint8: "model_uint8.onnx",
  fp16: "model_fp16.onnx",
  q4: "model_q4.onnx",
  q4f16: "model_q4f16.onnx",
  bnb4: "model_bnb4.onnx",
};
/** Agreement with float demanded per dtype (the bars). */
const AGREEMENT: Record<string, number> = {
  q8: 0.99,
  int8: 0.99,
  uint8: 0.99,
  fp16: 0.99,
  q4: 0.97,
  q4f16: 0.97,
  bnb4: 0.97,
};

type Transformers = typeof import("@huggingface/transformers");
let hf: Transformers;
const floatBytes = statSync(zoo("bert", "model.onnx")).size;
const ids = parseNpyTensor(readFileSync(zoo("bert", "eval/input_ids.npy")), "input_ids.npy");
const mask = parseNpyTensor(readFileSync(zoo("bert", "eval/attention_mask.npy")), "attention_mask.npy");
const labels = parseNpyTensor(readFileSync(zoo("bert", "eval/labels.npy")), "labels.npy");

/** Class predictions of the encoder for every held-out mail, through transformers.js' AutoModel. */
async function predictions(dtype: string): Promise<number[]> {
  const model = await hf.AutoModelForSequenceClassification.from_pretrained("bert", {
    dtype: dtype as never,
    device: "cpu",
  });
  const [n, t] = ids.dims as [number, number];
  const out: number[] = [];
  const batch = 100;
  try {
    for (let start = 0; start < n; start += batch) {
      const rows = Math.min(batch, n - start);
      const slice = (v: BigInt64Array) => BigInt64Array.from(v.subarray(start * t, (start + rows) * t));
      const feeds = {
        input_ids: new hf.Tensor("int64", slice(ids.data as BigInt64Array), [rows, t]),
        attention_mask: new hf.Tensor("int64", slice(mask.data as BigInt64Array), [rows, t]),
      };
      const logits = (await model(feeds)).logits.data as Float32Array;
      for (let r = 0; r < rows; r++) out.push((logits[r * 2 + 1] as number) > (logits[r * 2] as number) ? 1 : 0);
    }
  } finally {
    await model.dispose();
  }
  return out;
}

/**
 * A zoo model laid out as a transformers.js directory (its config/tokenizer files, onnx/model.onnx),
 * `zeropoint quantize <dir> --preset all` run on it with its calibration split, and transformers.js
 * pointed at the work folder (local files only). Returns the CLI's JSON report.
 */
async function presetDirectory(
  name: "bert" | "gpt",
): Promise<{ files: { preset: string; sizes: { ratio: number } }[] }> {
  mkdirSync(join(work, name, "onnx"), { recursive: true });
  for (const f of ["config.json", "tokenizer.json", "tokenizer_config.json"])
    copyFileSync(zoo(name, f), join(work, name, f));
  copyFileSync(zoo(name, "model.onnx"), join(work, name, "onnx", "model.onnx"));
  const run = await runCli([
    "quantize",
    join(work, name),
    "--preset",
    "all",
    "--calib-data",
    zoo(name, "calib"),
    "--json",
  ]);
  expect(run.err).toBe("");
  expect(run.code).toBe(0);
  hf = await import("@huggingface/transformers");
  hf.env.allowRemoteModels = false;
  hf.env.localModelPath = work;
  return JSON.parse(run.out);
}

describe("transformers.js presets on the zoo BERT-style encoder", () => {
  let report: { files: { preset: string; sizes: { ratio: number } }[] };
  beforeAll(async () => {
    report = await presetDirectory("bert");
  });

  it("writes every preset's file under onnx/ with transformers.js' names, each smaller than float", () => {
    expect(report.files.map((f) => f.preset)).toEqual(Object.keys(FILES));
    const ratios = Object.fromEntries(
      Object.entries(FILES).map(([dtype, file]) => [
        dtype,
        statSync(join(work, "bert", "onnx", file)).size / floatBytes,
      ]),
    );
    console.log("size / float:", JSON.stringify(ratios));
    expect(ratios.q8).toBeLessThanOrEqual(0.3);
    expect(ratios.int8).toBeLessThanOrEqual(0.3);
    expect(ratios.uint8).toBeLessThanOrEqual(0.3);
    // Half the weight bytes plus the graph's own (names, shapes): 0.503x here.
    expect(ratios.fp16).toBeLessThanOrEqual(0.51);
    // The embedding table (2/3 of this encoder's weights) is 4-bit GatherBlockQuantized: 0.17x.
    expect(ratios.q4).toBeLessThanOrEqual(0.2);
    expect(ratios.q4f16).toBeLessThanOrEqual(0.2);
    // bnb4 leaves the embedding table float32, as onnxruntime's MatMulBnb4Quantizer does.
    expect(ratios.bnb4).toBeLessThan(1);
  });

  it("the tokenizer written by the zoo generator encodes as the generator did", async () => {
    const tokenizer = await hf.AutoTokenizer.from_pretrained("bert");
    const vocab = JSON.parse(readFileSync(zoo("bert", "vocab.json"), "utf8")) as Record<string, number>;
    const encoded = tokenizer("Re: the HTTP content, wrote!  zzzqqq").input_ids.tolist() as bigint[][];
    const expected = [2, vocab.re, vocab.the, vocab.http, vocab.content, vocab.wrote, 1];
    expect(encoded[0]?.map(Number)).toEqual(expected);
  });

  it("every dtype loads in @huggingface/transformers and agrees with the float model", async () => {
    const float = await predictions("fp32");
    const accuracy = (p: number[]) => p.filter((c, i) => c === Number(labels.data[i])).length / p.length;
    console.log(`fp32: accuracy ${accuracy(float).toFixed(3)}`);
    const classify = await hf.pipeline("text-classification", "bert", { dtype: "fp32", device: "cpu" });
    const texts = ["FREE money!!! click here to claim your prize now", "Re: the patch you sent wrote fine on my box"];
    const floatLabels = ((await classify(texts)) as { label: string }[]).map((r) => r.label);
    await classify.dispose();
    for (const dtype of Object.keys(FILES)) {
      const got = await predictions(dtype);
      const agreement = got.filter((c, i) => c === float[i]).length / got.length;
      console.log(`${dtype}: agreement with fp32 ${agreement.toFixed(3)}, accuracy ${accuracy(got).toFixed(3)}`);
      expect(agreement).toBeGreaterThanOrEqual(AGREEMENT[dtype] as number);
      const pipe = await hf.pipeline("text-classification", "bert", { dtype: dtype as never, device: "cpu" });
      expect(((await pipe(texts)) as { label: string }[]).map((r) => r.label)).toEqual(floatLabels);
      await pipe.dispose();
    }
  });
});

/**
 * The decoder: the zoo's character GPT as a transformers.js GPT-2-style directory (config.json, a
 * character BPE tokenizer.json, no cache inputs), every preset through AutoModelForCausalLM on its
 * 256 held-out windows: perplexity against the targets and next-character agreement with fp32.
 * Bars: the zoo's (perplexity within 5% of float at 8 and 16 bits, 15% at 4 bits).
 */
describe("transformers.js presets on the zoo character GPT (decoder)", () => {
  const gptIds = parseNpyTensor(readFileSync(zoo("gpt", "eval/input_ids.npy")), "input_ids.npy");
  const targets = parseNpyTensor(readFileSync(zoo("gpt", "eval/targets.npy")), "targets.npy");
  const gptFloatBytes = statSync(zoo("gpt", "model.onnx")).size;

  beforeAll(async () => {
    await presetDirectory("gpt");
  });

  /** Logits of every held-out window through transformers.js' causal-LM forward. */
  async function logits(dtype: string): Promise<{ data: Float32Array; vocab: number }> {
    const model = await hf.AutoModelForCausalLM.from_pretrained("gpt", { dtype: dtype as never, device: "cpu" });
    const [n, t] = gptIds.dims as [number, number];
    const parts: Float32Array[] = [];
    let vocab = 0;
    try {
      for (let start = 0; start < n; start += 64) {
        const rows = Math.min(64, n - start);
        const input = BigInt64Array.from((gptIds.data as BigInt64Array).subarray(start * t, (start + rows) * t));
        const out = (await model({ input_ids: new hf.Tensor("int64", input, [rows, t]) })).logits;
        vocab = out.dims[2] as number;
        parts.push(Float32Array.from(out.data as Float32Array));
      }
    } finally {
      await model.dispose();
    }
    const data = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
    let at = 0;
    for (const p of parts) {
      data.set(p, at);
      at += p.length;
    }
    return { data, vocab };
  }

  const argmax = (l: Float32Array, p: number, v: number) => {
    let best = 0;
    for (let k = 1; k < v; k++) if ((l[p * v + k] as number) > (l[p * v + best] as number)) best = k;
    return best;
  };
  const perplexity = (l: Float32Array, v: number) => {
    let nll = 0;
    const y = targets.data as BigInt64Array;
    for (let p = 0; p < y.length; p++) {
      let max = Number.NEGATIVE_INFINITY;
      for (let k = 0; k < v; k++) max = Math.max(max, l[p * v + k] as number);
      let sum = 0;
      for (let k = 0; k < v; k++) sum += Math.exp((l[p * v + k] as number) - max);
      nll += Math.log(sum) + max - (l[p * v + Number(y[p])] as number);
    }
    return Math.exp(nll / y.length);
  };

  it("every dtype loads through AutoModelForCausalLM; perplexity within the zoo's bounds of fp32", async () => {
    const float = await logits("fp32");
    const floatPpl = perplexity(float.data, float.vocab);
    const meta = JSON.parse(readFileSync(zoo("gpt", "meta.json"), "utf8")) as { float: { perplexity: number } };
    // transformers.js runs the same file in the same onnxruntime: the generator's perplexity to 1e-4.
    expect(Math.abs(floatPpl / meta.float.perplexity - 1)).toBeLessThan(1e-4);
    for (const [dtype, file] of Object.entries(FILES)) {
      const got = await logits(dtype);
      const ppl = perplexity(got.data, got.vocab);
      const positions = got.data.length / got.vocab;
      let same = 0;
      for (let p = 0; p < positions; p++)
        if (argmax(got.data, p, got.vocab) === argmax(float.data, p, float.vocab)) same++;
      const size = statSync(join(work, "gpt", "onnx", file)).size / gptFloatBytes;
      console.log(
        `gpt ${dtype}: perplexity ${ppl.toFixed(4)} (fp32 ${floatPpl.toFixed(4)}), next-char agreement ${(same / positions).toFixed(4)}, size ${size.toFixed(3)}x`,
      );
      const bound = ["q4", "q4f16", "bnb4"].includes(dtype) ? 1.15 : 1.05;
      expect(ppl).toBeLessThan(floatPpl * bound);
      expect(size).toBeLessThan(dtype === "bnb4" ? 1 : 0.55);
    }
  });

  it("the character tokenizer encodes as the generator did and decodes back", async () => {
    const tokenizer = await hf.AutoTokenizer.from_pretrained("gpt");
    const chars = JSON.parse(readFileSync(zoo("gpt", "vocab.json"), "utf8")) as string[];
    const text = "re: hello, world!\nthanks";
    const ids = (tokenizer(text).input_ids.tolist() as bigint[][])[0]?.map(Number);
    expect(ids).toEqual([...text].map((c) => chars.indexOf(c)));
    expect(tokenizer.decode(ids as number[])).toBe(text);
  });
});
