import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "./test-support.js";

const work = mkdtempSync(join(tmpdir(), "zeropoint-flags-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const model = new URL("../assets/mnist-cnn.onnx", import.meta.url).pathname;
const out = () => join(work, `o${Math.random().toString(36).slice(2)}.onnx`);

describe("every flag is validated; a flag that would change nothing is an error", () => {
  it.each([
    [["--approach", "dynamic", "--op-types", "bogus"], "not an op dynamic quantization handles"],
    [["--approach", "dynamic", "--input-shape", "nosuch=1,1,28,28"], "the model has no input nosuch"],
    [["--approach", "dynamic", "--format", "qoperator"], "--format applies to --approach static"],
    [["--approach", "dynamic", "--calibrate", "entropy"], "--calibrate applies to --approach static"],
    [["--approach", "weight-only", "--block-size", "64"], "applies to --approach weight-only --weight-type int4"],
    [["--approach", "dynamic", "--weight-bits", "4"], "applies to tfjs models"],
    [["--calib-data", "mnist:train", "--samples", "-1"], "--samples must be a positive integer, got -1"],
    [["--approach", "weight-only", "--mixed"], "applies to --approach weight-only --weight-type int4"],
    [["--approach", "weight-only", "--weight-type", "int4", "--accuracy-level", "5"], "--accuracy-level must be 0..4"],
    [["--accuracy-level", "4"], "applies to --approach weight-only --weight-type int4"],
    [["--approach", "weight-only", "--weight-type", "int4", "--mixed"], "--mixed ranks layers on calibration data"],
    [["--approach", "weight-only", "--weight-type", "int4", "--max-size", "2x"], "--max-size is the budget of --mixed"],
    [
      ["--approach", "weight-only", "--weight-type", "int4", "--mixed", "--max-size", "0.5x", "--calib-data", "random"],
      "must be >= 1",
    ],
  ])("quantize %j is a usage error (%s)", async (flags, message) => {
    const r = await runCli(["quantize", model, "-o", out(), ...flags]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(message);
  });

  it.each([
    ["500%", "accepts any model"],
    ["-5%", "max loss must look like"],
    ["2abs", "accepts any accuracy"],
  ])("tune --max-loss %s is a usage error", async (loss, message) => {
    const r = await runCli([
      "tune",
      model,
      "-o",
      out(),
      "--calib-data",
      "mnist:train",
      "--eval-data",
      "mnist:test-even",
      "--max-loss",
      loss,
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(message);
  });
});
