import { describe, expect, it } from "vitest";
import { readSafetensors } from "./safetensors.js";

/** A safetensors file from a header object and a data buffer. */
function file(header: Record<string, unknown>, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const f32 = (...v: number[]) => new Uint8Array(Float32Array.from(v).buffer);

describe("readSafetensors: crafted headers are typed errors", () => {
  it("reads a well-formed file (two contiguous entries)", () => {
    const t = readSafetensors(
      file(
        {
          a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
          b: { dtype: "F32", shape: [1], data_offsets: [8, 12] },
        },
        f32(1, 2, 3),
      ),
    );
    expect(Array.from(t.get("a")?.data ?? [])).toEqual([1, 2]);
    expect(Array.from(t.get("b")?.data ?? [])).toEqual([3]);
  });

  it.each([
    ["a null entry", { a: null }, f32(1), "is null, not an entry"],
    ["a string entry", { a: "x" }, f32(1), "not an entry"],
    [
      "overlapping offsets",
      { a: { dtype: "F32", shape: [2], data_offsets: [0, 8] }, b: { dtype: "F32", shape: [1], data_offsets: [4, 8] } },
      f32(1, 2),
      "overlaps",
    ],
    [
      "a hole between entries",
      { a: { dtype: "F32", shape: [1], data_offsets: [0, 4] }, b: { dtype: "F32", shape: [1], data_offsets: [8, 12] } },
      f32(1, 2, 3),
      "belong to no tensor",
    ],
    ["trailing bytes", { a: { dtype: "F32", shape: [1], data_offsets: [0, 4] } }, f32(1, 2), "trailing data bytes"],
  ])("%s", (_label, header, data, message) => {
    expect(() => readSafetensors(file(header, data), "crafted.safetensors")).toThrow(
      expect.objectContaining({ code: "invalid-model", message: expect.stringContaining(message) }),
    );
  });
});
