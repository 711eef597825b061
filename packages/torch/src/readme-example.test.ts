import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { runReadmeExample } from "@zeropoint/test-helpers";
import { describe, expect, it } from "vitest";

describe("README example", () => {
  it("runs as written", () => {
    const out = runReadmeExample(resolve(dirname(fileURLToPath(import.meta.url)), ".."));
    expect(out).toMatch(/^float (-?\d\.\d{4} ){4}\| dynamic (-?\d\.\d{4} ){4}\| static (-?\d\.\d{4} ?){4}$/m);
  });
});
