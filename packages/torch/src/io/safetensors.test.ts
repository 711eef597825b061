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

describe("loading a state dict whose dtypes lie", () => {
  it("a parameter stored as I32 with the right shape and byte length is a typed error naming the key", async () => {
    const { Linear } = await import("../nn/layers.js");
    const layer = new Linear(2, 1);
    const i32 = (...v: number[]) => new Uint8Array(Int32Array.from(v).buffer);
    const bytes = file(
      {
        weight: { dtype: "I32", shape: [1, 2], data_offsets: [0, 8] },
        bias: { dtype: "F32", shape: [1], data_offsets: [8, 12] },
      },
      new Uint8Array([...i32(1065353216, 1073741824), ...f32(0.5)]),
    );
    expect(() => layer.loadStateDict(readSafetensors(bytes, "lying.safetensors"))).toThrow(
      expect.objectContaining({ code: "invalid-dtype", message: expect.stringContaining("weight is stored as I32") }),
    );
    // The same values stored as F32 load.
    const good = file(
      {
        weight: { dtype: "F32", shape: [1, 2], data_offsets: [0, 8] },
        bias: { dtype: "F32", shape: [1], data_offsets: [8, 12] },
      },
      new Uint8Array([...f32(1, 2), ...f32(0.5)]),
    );
    layer.loadStateDict(readSafetensors(good, "good.safetensors"));
  });
});
