import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TuneResult } from "@zeropoint/core";
import { chromium } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import type { CompareReport } from "./compare/compare.js";
import { compareHtml } from "./compare/report-html.js";
import { sensitivityHtml } from "./sensitivity-html.js";

// Names a downloaded model may carry: each would run script if a report pasted it unescaped.
const HOSTILE = [
  "<script>window.__pwned = 1</script>",
  '"><img src=x onerror="window.__pwned = 2">',
  '</title><svg onload="window.__pwned = 3">',
  "' onmouseover='window.__pwned = 4",
];
const work = mkdtempSync(join(tmpdir(), "zeropoint-escape-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function compareReport(): CompareReport {
  const layers = Object.fromEntries(
    HOSTILE.map((n, i) => [n, { scale: 0.01 * (i + 1), zeroPoint: i, qmin: 0, qmax: 255, weightSqnr: 30 + i }]),
  );
  const row = (framework: "onnx" | "torch", format: string) => ({
    framework,
    approach: "static" as const,
    format,
    emulated: false,
    runtime: HOSTILE[1] as string,
    accuracy: 0.97,
    top1Agreement: 0.99,
    sqnr: 30,
    sizeBytes: 1000,
    latencyMs: 0.1,
    quantizeSeconds: 1,
    layers,
  });
  return {
    model: HOSTILE[0] as string,
    recipe: { name: HOSTILE[2] as string, method: "minmax", perChannel: true },
    samples: { calibration: 8, evaluation: 8 },
    float: [{ framework: "onnx", runtime: HOSTILE[3] as string, accuracy: 0.97 }],
    floatAgree: true,
    layers: HOSTILE,
    rows: [row("onnx", "qdq"), row("torch", HOSTILE[0] as string)],
    histograms: HOSTILE.map((layer) => ({ layer, min: -1, max: 1, counts: [1, 2, 3] })),
  };
}

function tuneResult(): TuneResult {
  const trial = {
    index: 1,
    label: HOSTILE[0] as string,
    int8Nodes: HOSTILE,
    metric: 0.97,
    passed: true,
    sizeBytes: 100,
    latencyMs: 1,
  };
  return {
    status: "met",
    message: HOSTILE[1] as string,
    best: trial as never,
    trials: [trial as never],
    float: { metric: 0.97, latencyMs: 1, sizeBytes: 400 },
    threshold: 0.96,
    stopReason: "exhausted",
    sensitivity: HOSTILE.map((name, i) => ({
      name,
      opType: HOSTILE[3] as string,
      sqnr: 30 + i,
      impact: 0.001 * i,
      latencyDeltaMs: -0.1,
    })),
    measurements: {},
    slowerThanFloat: false,
  };
}

describe("HTML reports escape every model-provided string", () => {
  it("compare and tune reports with hostile node, tensor and input names run no script in Chromium", async () => {
    const pages = {
      compare: compareHtml(compareReport()),
      sensitivity: sensitivityHtml(HOSTILE[2] as string, tuneResult(), HOSTILE),
    };
    expect(existsSync("/usr/bin/chromium"), "Debian chromium must be installed (.ci/run installs it)").toBe(true);
    const browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
    });
    try {
      for (const [name, html] of Object.entries(pages)) {
        // Static check first: no tag from the names survives (escaped text like &lt;img is fine).
        expect(html, name).not.toMatch(/<script|<img|<svg onload/);
        const file = join(work, `${name}.html`);
        writeFileSync(file, html);
        const page = await browser.newPage();
        const dialogs: string[] = [];
        page.on("dialog", async (d) => {
          dialogs.push(d.message());
          await d.dismiss();
        });
        await page.goto(`file://${file}`);
        // Hover everything, in case an attribute was broken open.
        for (const el of await page.$$("text, rect, td, th, h1, p")) await el.hover({ force: true }).catch(() => {});
        // (A string expression: this package compiles without the DOM library.)
        const state = (await page.evaluate(`({
          pwned: window.__pwned ?? null,
          scripts: document.querySelectorAll("script").length,
          images: document.querySelectorAll("img").length,
          text: document.body.textContent ?? "",
        })`)) as { pwned: number | null; scripts: number; images: number; text: string };
        expect(state.pwned, name).toBeNull();
        expect(state.scripts, name).toBe(0);
        expect(state.images, name).toBe(0);
        expect(dialogs, name).toEqual([]);
        // The names are shown as text.
        expect(state.text, name).toContain("<script>window.__pwned = 1</script>");
        await page.close();
      }
    } finally {
      await browser.close();
    }
  }, 120_000);
});
