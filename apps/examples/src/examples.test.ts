import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const dir = import.meta.dirname;
/** Every example script: one per support-matrix cell (helpers are not examples). */
const examples = readdirSync(dir).filter((f) => /^(onnx|torch|tfjs)-.+\.ts$/.test(f) && !/-(model|train)\.ts$/.test(f));

function run(file: string): string {
  return execFileSync(process.execPath, ["--conditions=@zeropoint/source", "--import", "tsx", join(dir, file)], {
    cwd: join(dir, ".."),
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
}

describe("examples of quantization (one per support-matrix cell)", () => {
  it("there is an example for every cell the issue lists", () => {
    expect(examples.sort()).toEqual(
      [
        "onnx-dynamic.ts",
        "onnx-static-qdq.ts",
        "onnx-static-qoperator.ts",
        "onnx-weight-only-int4.ts",
        "onnx-weight-only-int8.ts",
        "tfjs-qat.ts",
        "tfjs-static.ts",
        "tfjs-weight-only.ts",
        "torch-dynamic.ts",
        "torch-eager-ptq.ts",
        "torch-eager-qat.ts",
        "torch-fx-ptq.ts",
        "torch-fx-qat.ts",
      ].sort(),
    );
  });
  for (const file of examples) {
    it(`${file} runs and prints an accuracy within 2 points of its float model`, () => {
      const out = run(file).trim();
      console.log(out);
      const accuracies = [...out.matchAll(/accuracy (\d\.\d{4})|integer executor (\d\.\d{4})/g)].map((m) =>
        Number(m[1] ?? m[2]),
      );
      expect(accuracies.length).toBeGreaterThan(0);
      // Float models: onnx cnn 0.9706, mlp 0.9301; torch cnn 0.9706; tfjs cnn 0.9746.
      const float =
        file.startsWith("onnx-dynamic") || file.startsWith("onnx-weight")
          ? 0.9301
          : file.startsWith("tfjs")
            ? 0.9746
            : 0.9706;
      for (const a of accuracies) expect(Math.abs(a - float)).toBeLessThanOrEqual(0.02);
    });
  }
});
