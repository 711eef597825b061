import { describe, expect, it } from "vitest";
import { GraphIndex } from "./graph-index.js";

describe("GraphIndex.uniqueName", () => {
  it("hands out base, base_1, base_2, ... for one base, skipping names the graph already uses", () => {
    const index = new GraphIndex({
      name: "g",
      node: [{ name: "n", opType: "Relu", input: ["x"], output: ["q_1"], attribute: [] }],
      input: [{ name: "x" }],
      output: [{ name: "q_1" }],
      initializer: [],
      valueInfo: [],
    } as never);
    const names = Array.from({ length: 5 }, () => index.uniqueName("q"));
    expect(names).toEqual(["q", "q_2", "q_3", "q_4", "q_5"]);
    index.reserve("r_1");
    expect([index.uniqueName("r"), index.uniqueName("r"), index.uniqueName("r")]).toEqual(["r", "r_2", "r_3"]);
  });

  it("100,000 names from one base are all distinct (one probe each, not a rescan per call)", () => {
    const index = new GraphIndex({
      name: "g",
      node: [],
      input: [],
      output: [],
      initializer: [],
      valueInfo: [],
    } as never);
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) seen.add(index.uniqueName("QuantizeLinear"));
    expect(seen.size).toBe(100_000);
  });
});
