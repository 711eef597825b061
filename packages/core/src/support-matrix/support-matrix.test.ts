import { describe, expect, it } from "vitest";
import { type Capability, getSupportMatrix, SupportMatrix } from "./support-matrix.js";

const cap = (id: string, overrides: Partial<Capability> = {}): Capability => ({
  id,
  framework: "onnx",
  approach: "static",
  format: "QDQ",
  opTypes: ["Conv", "MatMul"],
  schemes: ["int8 symmetric per-channel weights", "uint8 activations"],
  verifiedBy: { test: "packages/onnx/src/static.test.ts > cnn QDQ", metric: "accuracy >= 0.9666" },
  ...overrides,
});

describe("support matrix", () => {
  it("core registers nothing itself", () => {
    expect(getSupportMatrix().capabilities()).toEqual([]);
  });

  it("renders cells as verified only with passing evidence", () => {
    const m = new SupportMatrix();
    m.register(cap("onnx/static/qdq"));
    m.register(cap("tfjs/qat/emulated", { framework: "tfjs", approach: "qat", format: "int8", emulated: true }));
    m.register(cap("onnx/dynamic/integer-ops", { approach: "dynamic", format: "IntegerOps" }));
    const rows = m.rows([
      { id: "onnx/static/qdq", status: "passed" },
      { id: "onnx/dynamic/integer-ops", status: "failed" },
    ]);
    expect(rows.map((r) => [r.id, r.dataRequirement, r.verified])).toEqual([
      ["onnx/static/qdq", "calibration set", true],
      ["onnx/dynamic/integer-ops", "none", false],
      ["tfjs/qat/emulated", "fine-tuning data", false],
    ]);
    const md = m.toMarkdown([{ id: "onnx/static/qdq", status: "passed" }]);
    expect(md).toContain("| static | calibration set | onnx | QDQ | Conv, MatMul | verified |");
    expect(md).toContain("| qat | fine-tuning data | tfjs | int8 (emulated) |");
    expect(md).toContain("| unverified |");
  });

  it("refuses a capability without a verifying test, and conflicting duplicates", () => {
    const m = new SupportMatrix();
    expect(() => m.register(cap("x", { verifiedBy: { test: "", metric: "" } }))).toThrow(
      expect.objectContaining({ code: "invalid-argument" }),
    );
    m.register(cap("a"));
    m.register(cap("a"));
    expect(() => m.register(cap("a", { format: "QOperator" }))).toThrow(
      expect.objectContaining({ code: "duplicate-capability" }),
    );
  });
});
