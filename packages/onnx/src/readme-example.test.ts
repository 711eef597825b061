import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { runReadmeExample } from "@zeropoint/test-helpers";
import { describe, expect, it } from "vitest";

describe("README example", () => {
  it("runs as written", () => {
    const pkg = resolve(dirname(fileURLToPath(import.meta.url)), "..");
    const out = runReadmeExample(pkg, { MODEL: resolve(pkg, "../../apps/cli/assets/mnist-cnn.onnx") });
    expect(out).toMatch(/quantized nodes: 7 logits SQNR: \d+\.\d dB/);
    expect(out).toMatch(/written: \d+ bytes/);
  });
});
