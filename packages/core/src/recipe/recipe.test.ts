import { describe, expect, it } from "vitest";
import { APPROACHES, defaultRecipe, parseRecipe, recipeToJSON, resolveSettings } from "./recipe.js";

describe("recipes", () => {
  it("every default recipe validates and survives JSON", () => {
    for (const approach of APPROACHES) {
      const r = defaultRecipe(approach);
      expect(parseRecipe(recipeToJSON(r))).toEqual(r);
    }
  });

  it("reports every problem at once, with paths", () => {
    const bad = {
      format: "zeropoint-recipe",
      version: 1,
      approach: "static",
      weight: { dtype: "int9", granularity: "per-group" },
      calibration: { method: "guess", samples: -1 },
      overrides: { nodes: { conv1: { keepFloat: "yes", qparams: { scale: [1], zeroPoint: [0], dtype: "int8" } } } },
      extra: 1,
    };
    try {
      parseRecipe(bad, "plan.json");
      expect.unreachable();
    } catch (e) {
      const err = e as { code: string; message: string; details: { issues: string[] } };
      expect(err.code).toBe("invalid-recipe");
      expect(err.message).toMatch(/^plan.json is invalid/);
      expect(err.details.issues).toEqual(
        expect.arrayContaining([
          "extra: unknown field",
          expect.stringMatching(/^weight.dtype: expected one of/),
          "weight.groupSize: required for per-group",
          "activation: required for static",
          expect.stringMatching(/^calibration.method/),
          "calibration.samples: expected a positive integer",
          "overrides.nodes.conv1.keepFloat: expected a boolean",
          "overrides.nodes.conv1.qparams: explicit qparams are only allowed on tensor overrides",
        ]),
      );
    }
    expect(() => parseRecipe("{oops", "x.json")).toThrow(expect.objectContaining({ code: "invalid-recipe" }));
  });

  it("resolves overrides with priority defaults < op type < node < tensor", () => {
    const recipe = parseRecipe({
      ...defaultRecipe("static"),
      overrides: {
        opTypes: { MatMul: { weight: { granularity: "per-tensor" } }, Softmax: { keepFloat: true } },
        nodes: {
          "/l2/Gemm": { keepFloat: true },
          mm1: { weight: { dtype: "int4", granularity: "per-group", groupSize: 32 } },
        },
        tensors: { x: { qparams: { scale: [0.1], zeroPoint: [3], dtype: "uint8" } } },
      },
    });
    expect(resolveSettings(recipe, { opType: "Conv", node: "c1" }).weight).toEqual(recipe.weight);
    expect(resolveSettings(recipe, { opType: "MatMul", node: "mm0" }).weight.granularity).toBe("per-tensor");
    const mm1 = resolveSettings(recipe, { opType: "MatMul", node: "mm1" });
    expect(mm1.weight).toMatchObject({ dtype: "int4", granularity: "per-group", groupSize: 32, symmetric: true });
    expect(resolveSettings(recipe, { opType: "Gemm", node: "/l2/Gemm" }).keepFloat).toBe(true);
    expect(resolveSettings(recipe, { opType: "Softmax" }).keepFloat).toBe(true);
    expect(resolveSettings(recipe, { opType: "Conv", node: "c1", tensor: "x" }).qparams?.zeroPoint).toEqual([3]);
  });
});
