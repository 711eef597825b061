import { describe, expect, it } from "vitest";
import { sharedModelBytes } from "../../test-fixtures/mnist-eval.js";
import { encodeModel, loadModel } from "./model-io.js";

describe("loadModel: structural defects are typed errors naming the tensor or input", () => {
  it("a duplicate initializer name", () => {
    const model = loadModel(sharedModelBytes("cnn")).model;
    const graph = model.graph as NonNullable<typeof model.graph>;
    graph.initializer.push({ ...(graph.initializer[0] as (typeof graph.initializer)[0]) });
    const name = graph.initializer[0]?.name as string;
    expect(() => loadModel(encodeModel(model))).toThrow(
      expect.objectContaining({
        code: "invalid-model",
        message: expect.stringContaining(`initializer ${name} is defined twice`),
      }),
    );
  });

  it("a graph input dimension of 2^40", () => {
    const model = loadModel(sharedModelBytes("cnn")).model;
    const input = model.graph?.input[0] as NonNullable<typeof model.graph>["input"][0];
    const dim = input.type?.tensorType?.shape?.dim?.[1] as { dimValue?: unknown };
    dim.dimValue = 2 ** 40;
    expect(() => loadModel(encodeModel(model))).toThrow(
      expect.objectContaining({ code: "invalid-model", message: expect.stringContaining("1099511627776") }),
    );
  });
});
