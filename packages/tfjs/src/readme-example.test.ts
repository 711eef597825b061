import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { runReadmeExample } from "@zeropoint/test-helpers";
import { describe, expect, it } from "vitest";

describe("README example", () => {
  it("runs as written", () => {
    const out = runReadmeExample(resolve(dirname(fileURLToPath(import.meta.url)), ".."));
    expect(out).toMatch(/^weight bytes \d+ -> \d+; reloaded 5 layers$/m);
    expect(out).toMatch(
      /^folded batch_normalization\w*; integer vs emulated logits: at most [01] quantization step\(s\) apart$/m,
    );
  });
});
