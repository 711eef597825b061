import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { SupportMatrix } from "@zeropoint/core";
import { REPO_ROOT } from "@zeropoint/test-helpers";
import { describe, expect, it } from "vitest";
import { onnxCapabilities } from "./capabilities.js";

describe("registered capabilities", () => {
  it("every capability names a test that exists, by file, suite and title", () => {
    for (const c of onnxCapabilities) {
      const [file, ...titles] = c.verifiedBy.test.split(" > ");
      const source = readFileSync(resolve(REPO_ROOT, file as string), "utf8");
      // Suite titles may be describe.each templates (%s); both appear verbatim in the source.
      for (const title of titles) expect(source, `${c.id}: "${title}" in ${file}`).toContain(`"${title}"`);
      expect(c.verifiedBy.metric.length).toBeGreaterThan(10);
    }
  });

  it("they register and render in core's matrix (unverified until evidence says otherwise)", () => {
    const matrix = new SupportMatrix();
    for (const c of onnxCapabilities) matrix.register(c);
    const md = matrix.toMarkdown();
    expect(md).toContain("| static | calibration set | onnx | QDQ |");
    expect(md).toContain("| weight-only | none | onnx | int4 MatMulNBits |");
    expect(matrix.rows().every((r) => !r.verified)).toBe(true);
  });
});
