import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { adapterRegistry } from "@zeropoint/core";
import { adapterConformance } from "@zeropoint/core/testing";
import { mnistSplit, sharedPath } from "@zeropoint/test-helpers";
import { afterAll, describe, expect, it } from "vitest";
import { referenceAdapter, referenceAdapterRegistration } from "../../test-fixtures/reference-adapter.js";
import { compareModel } from "./compare.js";

const app = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

describe("a fourth adapter registered in core's registry", () => {
  const unregister = adapterRegistry.register(referenceAdapterRegistration);
  afterAll(unregister);

  it("compare includes it beside onnx, torch and tfjs with no change to apps/cli", async () => {
    const test = mnistSplit("test");
    const train = mnistSplit("train");
    const report = await compareModel({
      model: sharedPath("models/mlp_fp32.onnx"),
      calibration: [train.images.subarray(0, 64 * 784)],
      evaluation: { images: test.images.subarray(0, 256 * 784), labels: test.labels.subarray(0, 256), count: 256 },
    });
    const float = report.float.find((f) => f.framework === "reference");
    expect(float?.unsupported).toBeUndefined();
    // Same float network in another evaluator: logits agree to float32 summation order.
    expect(float?.maxLogitDifference).toBeLessThanOrEqual(1e-3);
    const row = report.rows.find((r) => r.framework === "reference");
    expect(row).toMatchObject({
      approach: "weight-only",
      format: "int8 per-channel",
      runtime: "core evaluateIr (float32)",
    });
    // int8 per-channel weights on this MLP: ~40 dB logits and top-1 equal to float on almost all images.
    expect(row?.sqnr).toBeGreaterThan(25);
    expect(row?.top1Agreement).toBeGreaterThanOrEqual(0.98);
    expect(report.rows.map((r) => r.framework)).toEqual(expect.arrayContaining(["onnx", "torch", "tfjs", "reference"]));
  });

  it("passes the conformance suite, and the suite fails a no-op quantizer", async () => {
    const ok = await adapterConformance(referenceAdapter());
    expect(ok.filter((r) => !r.passed)).toEqual([]);
    const noOp = await adapterConformance(referenceAdapter((ir) => ir));
    expect(noOp.filter((r) => !r.passed).map((r) => r.check)).toEqual([
      "weight-only int8 per-channel: quantization changed the outputs",
    ]);
  });

  it("the CLI picks it up from ZEROPOINT_ADAPTERS, a module outside apps/cli/src", () => {
    const r = spawnSync(
      process.execPath,
      [
        "--conditions=@zeropoint/source",
        "--import",
        "tsx",
        "src/main.ts",
        "compare",
        sharedPath("models/mlp_fp32.onnx"),
        "--samples",
        "64",
        "--eval-samples",
        "128",
        "--out",
        join(mkdtempSync(join(tmpdir(), "zeropoint-fourth-")), "compare.html"),
        "--json",
      ],
      {
        cwd: app,
        env: { ...process.env, ZEROPOINT_ADAPTERS: join(app, "test-fixtures/reference-adapter.ts") },
        encoding: "utf8",
      },
    );
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { rows: { framework: string; format: string; sqnr?: number }[] };
    const row = report.rows.find((x) => x.framework === "reference");
    expect(row?.format).toBe("int8 per-channel");
    expect(row?.sqnr).toBeGreaterThan(25);
  });
});
