import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "./test-support.js";

const work = mkdtempSync(join(tmpdir(), "zeropoint-cli-tfjs-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
/** The tfjs adapter's bundled MNIST CNN (trained in tfjs on wasm; see packages/tfjs/scripts). */
const modelDir = new URL("../../../packages/tfjs/test-fixtures/mnist-cnn", import.meta.url).pathname;
const model = join(modelDir, "model.json");

const run = runCli;

function copyModel(name: string): string {
  const dir = join(work, name);
  cpSync(modelDir, dir, { recursive: true });
  return dir;
}

/** A copy of the model whose ReLU layer r1 has a class tfjs does not know; returns its model.json. */
function withUnknownClass(name: string): string {
  const file = join(copyModel(name), "model.json");
  writeFileSync(file, readFileSync(file, "utf8").replace(/"class_name":\s*"ReLU"/, '"class_name":"FancyReLU"'));
  return file;
}

describe("zeropoint quantize <model.json> (tfjs)", () => {
  it("weight-only uint8 writes a model.json + shard that is 0.25x the weight bytes", async () => {
    const out = join(work, "wo");
    const r = await run([
      "quantize",
      model,
      "-o",
      out,
      "--approach",
      "weight-only",
      "--weight-type",
      "uint8",
      "--calib-data",
      "mnist:test",
      "--json",
    ]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(report.sizes.ratio).toBeLessThanOrEqual(0.3);
    expect(report.check.top1Agreement).toBeGreaterThan(0.95);
    const written = JSON.parse(readFileSync(join(out, "model.json"), "utf8"));
    expect(written.weightsManifest[0].weights[0].quantization.dtype).toBe("uint8");
  });

  it("dynamic is accepted for tfjs models and says it means weight-only", async () => {
    const r = await run([
      "quantize",
      model,
      "-o",
      join(work, "dyn"),
      "--approach",
      "dynamic",
      "--weight-type",
      "float16",
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/`dynamic` means weight-only \(storage\)/);
    expect(r.out).toMatch(/0\.500x/);
  });

  it("static writes the fake-quantized model and the parameter JSON", async () => {
    const out = join(work, "static");
    const r = await run([
      "quantize",
      model,
      "-o",
      out,
      "--approach",
      "static",
      "--calib-data",
      "mnist:train",
      "--samples",
      "128",
      "--json",
    ]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(report.foldedBatchNorms).toEqual(["b1", "b2"]);
    expect(report.check.top1AgreementWithFloat).toBeGreaterThan(0.95);
    expect(report.check.integerExecutorTop1Agreement).toBeGreaterThan(0.95);
    const params = JSON.parse(readFileSync(join(out, "quantization-params.json"), "utf8"));
    expect(params.format).toBe("zeropoint-tfjs-qparams");
    expect(params.tensors.c1).toMatchObject({ dtype: "uint8" });
    expect(existsSync(join(out, "model.json"))).toBe(true);
    // The report says what the output costs a user: float32 size, and @zeropoint/tfjs to load it.
    expect(report.loadsIn).toMatch(/@zeropoint\/tfjs/);
    expect(report.storage).toMatch(/no size saving/);
  });

  it("a tfjs model JSON under another name is recognised by its content", async () => {
    const dir = copyModel("renamed");
    const renamed = join(dir, "mnist_cnn_web.json");
    writeFileSync(renamed, readFileSync(join(dir, "model.json")));
    rmSync(join(dir, "model.json"));
    const r = await run(["quantize", renamed, "-o", join(work, "renamed-out"), "--approach", "weight-only", "--json"]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(existsSync(join(work, "renamed-out", "model.json"))).toBe(true);
    const notModel = join(work, "settings.json");
    writeFileSync(notModel, JSON.stringify({ theme: "dark" }));
    const bad = await run(["quantize", notModel, "-o", join(work, "x")]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/unknown model type/);
  });

  it("inspect lists layers, weights and what would be quantized", async () => {
    const r = await run(["inspect", model]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/b1\s+BatchNormalization\s+folded into c1/);
    expect(r.out).toMatch(/c1\/kernel\s+\[3,3,1,16\]\s+float32\s+576\s+quantizable/);
  });

  describe("bad input: one clear typed line, non-zero exit, nothing written", () => {
    const cases: [string, () => string[], RegExp][] = [
      [
        "missing weight shard",
        () => {
          const dir = copyModel("no-shard");
          rmSync(join(dir, "group1-shard1of1.bin"));
          return ["quantize", join(dir, "model.json"), "-o", join(work, "o1"), "--approach", "weight-only"];
        },
        /io-error.*weight shard .*group1-shard1of1\.bin listed in model\.json is missing/,
      ],
      [
        "manifest byte length mismatch",
        () => {
          const dir = copyModel("short-shard");
          const shard = join(dir, "group1-shard1of1.bin");
          writeFileSync(shard, readFileSync(shard).subarray(0, 1000));
          return ["quantize", join(dir, "model.json"), "-o", join(work, "o2"), "--approach", "weight-only"];
        },
        /invalid-model.*describes 828456 bytes but its shards \(group1-shard1of1\.bin\) hold 1000/,
      ],
      [
        "unknown layer class",
        () => ["quantize", withUnknownClass("unknown-class"), "-o", join(work, "o3"), "--calib-data", "mnist:train"],
        /unsupported-op.*layer r1 has unknown class FancyReLU/,
      ],
      [
        "unknown layer class (weight-only still checks the model loads)",
        () => ["quantize", withUnknownClass("unknown-class-wo"), "-o", join(work, "o4"), "--approach", "weight-only"],
        /unsupported-op.*layer r1 has unknown class FancyReLU/,
      ],
      [
        "calibration data of the wrong shape",
        () => {
          const dir = mkdtempSync(join(work, "shape-"));
          const header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 32, 32), }";
          let h = header;
          while ((10 + h.length + 1) % 64 !== 0) h += " ";
          h += "\n";
          const bytes = new Uint8Array(10 + h.length + 4096);
          bytes.set([0x93, ...new TextEncoder().encode("NUMPY"), 1, 0], 0);
          new DataView(bytes.buffer).setUint16(8, h.length, true);
          bytes.set(new TextEncoder().encode(h), 10);
          writeFileSync(join(dir, "a.npy"), bytes);
          return ["quantize", model, "-o", join(work, "o5"), "--calib-data", dir];
        },
        /invalid-calibration-data/,
      ],
    ];
    for (const [name, args, message] of cases) {
      it(name, async () => {
        const argv = args();
        const r = await run(argv);
        expect(r.code).not.toBe(0);
        const lines = r.err.trim().split("\n");
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(message);
        const target = argv[argv.indexOf("-o") + 1] as string;
        expect(existsSync(target)).toBe(false);
        expect(readdirSync(work).filter((f) => f.includes(".tmp-"))).toEqual([]);
      });
    }
  });
});
