import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { SupportMatrix } from "@zeropoint/core";
import { REPO_ROOT, titleInSource } from "@zeropoint/test-helpers";
import { describe, expect, it } from "vitest";
import { tfjsCapabilities } from "./capabilities.js";

describe("registered capabilities", () => {
  it("every capability names a test that exists, by file, suite and title", () => {
    for (const c of tfjsCapabilities) {
      const [file, ...titles] = c.verifiedBy.test.split(" > ");
      const source = readFileSync(resolve(REPO_ROOT, file as string), "utf8");
      for (const title of titles) expect(titleInSource(source, title), `${c.id}: "${title}" in ${file}`).toBe(true);
    }
  });
  it("they register and render in core's matrix, emulated cells labelled so", () => {
    const matrix = new SupportMatrix();
    for (const c of tfjsCapabilities) matrix.register(c);
    const md = matrix.toMarkdown();
    expect(md).toContain("| static | calibration set | tfjs | LayersModel fake-quant (emulated) |");
    expect(md).toContain("| weight-only | none | tfjs | storage (uint8/uint16/float16 manifest) |");
    expect(md).toContain("| qat | fine-tuning data | tfjs | LayersModel fake-quant (emulated) |");
    expect(md).not.toContain("| dynamic | none | tfjs");
  });
});
