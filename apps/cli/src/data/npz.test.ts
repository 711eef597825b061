import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseNpz } from "./npz.js";

const fixture = (name: string) => new URL(`../../test-fixtures/npz/${name}`, import.meta.url).pathname;

describe("parseNpz", () => {
  it.each(["sample-0001.npz", "sample-0002.npz"])("reads NumPy's %s (stored and deflated) with dtypes kept", (name) => {
    const arrays = parseNpz(readFileSync(fixture(name)), name);
    expect([...arrays.keys()].sort()).toEqual(["attention_mask", "input_ids"]);
    const ids = arrays.get("input_ids");
    expect(ids?.dtype).toBe("int64");
    expect(ids?.dims).toEqual([12]);
    const shift = name === "sample-0001.npz" ? 0 : 3;
    expect(Array.from(ids?.data as BigInt64Array, Number)).toEqual(
      Array.from({ length: 12 }, (_, i) => ((i % 7) + shift) % 7),
    );
    expect(Array.from(arrays.get("attention_mask")?.data as BigInt64Array, Number).every((v) => v === 1)).toBe(true);
  });

  it("a truncated or foreign file is a typed error naming it", () => {
    const bytes = readFileSync(fixture("sample-0002.npz"));
    expect(() => parseNpz(bytes.subarray(0, 100), "cut.npz")).toThrow(/cut.npz: not a .npz/);
    expect(() => parseNpz(new TextEncoder().encode("hello"), "x.npz")).toThrow(/x.npz/);
    const corrupt = Uint8Array.from(bytes);
    // Scramble the first entry's deflated stream (it starts after the 30-byte local header and name).
    for (let i = 50; i < 90; i++) corrupt[i] = (corrupt[i] as number) ^ 0x5a;
    expect(() => parseNpz(corrupt, "bad.npz")).toThrow(/bad.npz/);
  });
});
