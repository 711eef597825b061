import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { mnistSplit, sharedPath } from "@zeropoint/test-helpers";
import { chromium } from "playwright-core";
import { describe, expect, it } from "vitest";
import { main } from "../main.js";
import { npy } from "../test-support.js";
import type { CompareReport } from "./compare.js";

const results = resolve(import.meta.dirname, "../../.test-results");
mkdirSync(results, { recursive: true });

async function compare(model: string, extra: string[] = []): Promise<CompareReport & { html: string }> {
  const lines: string[] = [];
  const code = await main(
    [
      "compare",
      sharedPath(`models/${model}.onnx`),
      "--out",
      join(results, `compare-${model}.html`),
      "--json",
      ...extra,
    ],
    (l) => lines.push(l),
  );
  expect(code).toBe(0);
  return JSON.parse(lines.join("\n"));
}

const reports = new Map<string, CompareReport & { html: string }>();

describe("zeropoint compare on the shared MNIST models", () => {
  for (const model of ["cnn_fp32", "mlp_fp32"]) {
    it(`${model}: float builds agree, every int8 row within 1 point of float, every layer listed for every framework`, async () => {
      const report = await compare(model);
      reports.set(model, report);
      expect(report.floatAgree).toBe(true);
      for (const f of report.float) expect(f.maxLogitDifference).toBeLessThanOrEqual(1e-3);
      const float = report.float[0]?.accuracy as number;
      const expected = [
        "onnx static QDQ",
        "onnx static QOperator",
        "onnx dynamic IntegerOps",
        "torch static eager",
        "torch static FX",
        "torch dynamic eager",
        "tfjs static fake-quant",
        "tfjs static integer executor",
        "tfjs weight-only storage uint8",
      ];
      expect(report.rows.map((r) => `${r.framework} ${r.approach} ${r.format}`)).toEqual(expected);
      for (const r of report.rows) {
        expect(r.unsupported, `${r.framework} ${r.format}`).toBeUndefined();
        console.log(
          `${model} ${r.framework} ${r.approach} ${r.format}: accuracy ${r.accuracy?.toFixed(4)} (float ${float.toFixed(4)})`,
        );
        expect(
          Math.abs((r.accuracy as number) - float),
          `${r.framework} ${r.approach} ${r.format}`,
        ).toBeLessThanOrEqual(0.01);
      }
      const layers = model === "cnn_fp32" ? 4 : 3;
      expect(report.layers).toHaveLength(layers);
      for (const r of report.rows.filter((row) => row.approach === "static")) {
        for (const layer of report.layers)
          expect(r.layers?.[layer], `${r.framework} ${r.format} ${layer}`).toBeDefined();
      }
      expect(report.histograms).toHaveLength(layers);
    });
  }

  it("--recipe applies one recipe file to every framework (per-tensor weights, histogram calibration)", async () => {
    const file = join(results, "recipe-per-tensor.json");
    writeFileSync(
      file,
      JSON.stringify({
        format: "zeropoint-recipe",
        version: 1,
        name: "per-tensor-histogram",
        approach: "static",
        weight: { dtype: "int8", symmetric: true, granularity: "per-tensor" },
        activation: { dtype: "uint8" },
        calibration: { method: "histogram", samples: 256 },
      }),
    );
    const report = await compare("mlp_fp32", ["--recipe", file, "--eval-samples", "512"]);
    expect(report.recipe).toEqual({ name: "per-tensor-histogram", method: "histogram", perChannel: false });
    const defaults = reports.get("mlp_fp32") as CompareReport;
    const layer = report.layers[0] as string;
    // Histogram calibration (PyTorch's HistogramObserver) clips the first layer's output range below min/max in every framework.
    for (const label of ["onnx static QDQ", "torch static eager", "tfjs static fake-quant"]) {
      const pick = (r: CompareReport) =>
        r.rows.find((row) => `${row.framework} ${row.approach} ${row.format}` === label)?.layers?.[layer];
      expect((pick(report)?.scale as number) < (pick(defaults)?.scale as number), label).toBe(true);
    }
    for (const r of report.rows) expect(r.unsupported).toBeUndefined();
  });

  it("--eval-data <dir>: .npy samples with labels.json give the same accuracy as the same MNIST images", async () => {
    const dir = join(results, "eval-dir");
    mkdirSync(dir, { recursive: true });
    const test = mnistSplit("test");
    writeFileSync(join(dir, "batch.npy"), npy([300, 1, 28, 28], test.images.slice(0, 300 * 784)));
    writeFileSync(join(dir, "labels.json"), JSON.stringify(Array.from(test.labels.subarray(0, 300))));
    const fromDir = await compare("mlp_fp32", ["--eval-data", dir]);
    const fromMnist = await compare("mlp_fp32", ["--eval-samples", "300"]);
    expect(fromDir.samples.evaluation).toBe(300);
    expect(fromDir.float.map((f) => f.accuracy)).toEqual(fromMnist.float.map((f) => f.accuracy));
    expect(fromDir.rows.map((r) => r.accuracy)).toEqual(fromMnist.rows.map((r) => r.accuracy));
    rmSync(join(dir, "labels.json"));
    const unlabelled = await compare("mlp_fp32", ["--eval-data", dir]);
    expect(unlabelled.rows.every((r) => r.accuracy === undefined && r.top1Agreement !== undefined)).toBe(true);
  });

  it("a model outside the IR: compare still runs ONNX and marks tfjs and torch not supported, naming the node and op", async () => {
    const report = await compare("transformer_fp32", ["--eval-samples", "256", "--samples", "64"]);
    expect(report.irError).toMatch(/^node \S+ \(op \w+\) is outside the IR op set$/);
    const onnxRows = report.rows.filter((r) => r.framework === "onnx");
    expect(onnxRows.map((r) => r.unsupported)).toEqual([undefined, undefined, undefined]);
    for (const r of report.rows.filter((row) => row.framework !== "onnx")) {
      expect(r.unsupported).toMatch(/^not supported: node \S+ \(op \w+\) is outside the IR op set$/);
    }
  });

  it("the HTML report renders its charts in headless Chromium (Debian's chromium, playwright-core)", async () => {
    const report = reports.get("cnn_fp32");
    expect(report, "the cnn comparison must have run first").toBeDefined();
    const html = readFileSync(report?.html as string, "utf8");
    // Self-contained: no scripts, stylesheets or images fetched from anywhere.
    expect(html).not.toMatch(/<script|<link|src="http|href="http/);
    expect(existsSync("/usr/bin/chromium"), "Debian chromium must be installed (.ci/run installs it)").toBe(true);
    const browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const requests: string[] = [];
      page.on("request", (r) => {
        if (!r.url().startsWith("file://")) requests.push(r.url());
      });
      await page.goto(`file://${report?.html}`);
      const charts = await page.$$eval("svg.chart", (svgs) =>
        svgs.map((svg) => {
          const box = svg.getBoundingClientRect();
          const marks = svg.querySelectorAll("rect, circle, line").length;
          return { id: svg.id, width: box.width, height: box.height, marks };
        }),
      );
      const ids = charts.map((c) => c.id);
      expect(ids).toEqual(
        expect.arrayContaining(["chart-accuracy-size", "chart-scale-ratio", "chart-weight-sqnr", "chart-histogram-0"]),
      );
      expect(charts.filter((c) => c.id.startsWith("chart-histogram"))).toHaveLength(4);
      for (const c of charts) {
        expect(c.width, c.id).toBeGreaterThan(100);
        expect(c.height, c.id).toBeGreaterThan(50);
        expect(c.marks, c.id).toBeGreaterThan(5);
      }
      const shot = join(results, "compare-report.png");
      await page.screenshot({ path: shot, fullPage: true });
      expect(readFileSync(shot).byteLength).toBeGreaterThan(20_000);
      console.log(`screenshot of the compare report: ${shot}`);
      expect(requests).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
