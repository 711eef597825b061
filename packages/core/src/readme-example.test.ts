import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { runReadmeExample } from "@zeropoint/test-helpers";
import { describe, expect, it } from "vitest";

describe("README example", () => {
  it("runs as written and prints a result per observer and convention", () => {
    const out = runReadmeExample(resolve(dirname(fileURLToPath(import.meta.url)), ".."));
    expect(out).toMatch(/^histogram range/m);
    expect(out).toMatch(/^entropy range/m);
    expect(out).toMatch(/SQNR \d+\.\d dB/);
    expect(out.match(/^(pytorch|onnxruntime|tflite) 0\.\d+/gm)).toHaveLength(3);
  });
});
