import { describe, expect, it } from "vitest";
import { DataType, type OnnxModel } from "../model/onnx-schema.js";
import type { CalibrationBatch } from "./calibration-source.js";
import { collectActivationRows } from "./collect-rows.js";

const W = 4;
/** x [batch, seq, 4] -> Identity -> h; with `mask`, an attention_mask input too (read by a Shape). */
function identityModel(mask = false): OnnxModel {
  return {
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }],
    graph: {
      name: "g",
      input: [
        {
          name: "x",
          type: {
            tensorType: {
              elemType: DataType.FLOAT,
              shape: { dim: [{ dimParam: "batch" }, { dimParam: "seq" }, { dimValue: W }] },
            },
          },
        },
        ...(mask
          ? [
              {
                name: "attention_mask",
                type: {
                  tensorType: {
                    elemType: DataType.INT64,
                    shape: { dim: [{ dimParam: "batch" }, { dimParam: "seq" }] },
                  },
                },
              },
            ]
          : []),
      ],
      output: [{ name: "h" }, ...(mask ? [{ name: "mask_shape" }] : [])],
      valueInfo: [],
      initializer: [],
      node: [
        { name: "id", opType: "Identity", input: ["x"], output: ["h"], attribute: [] },
        ...(mask
          ? [{ name: "shape", opType: "Shape", input: ["attention_mask"], output: ["mask_shape"], attribute: [] }]
          : []),
      ],
    },
  } as unknown as OnnxModel;
}

/** Batch b: 2 samples x 8 positions, every value = 100 b + position; mask 0 on positions >= 6. */
function batches(count: number, masked: boolean): CalibrationBatch[] {
  return Array.from({ length: count }, (_, b) => {
    const x = new Float32Array(2 * 8 * W);
    for (let r = 0; r < 16; r++) x.fill(100 * b + (r % 8), r * W, (r + 1) * W);
    const batch: Record<string, CalibrationBatch[string]> = { x: { data: x, dims: [2, 8, W] } };
    if (masked)
      batch.attention_mask = {
        dtype: "int64",
        data: BigInt64Array.from({ length: 16 }, (_, i) => (i % 8 < 6 ? 1n : 0n)),
        dims: [2, 8],
      };
    return batch;
  });
}

describe("collectActivationRows", () => {
  it("keeps a bounded sample drawn from every batch, not just the first ones", async () => {
    const rows = (await collectActivationRows(identityModel(), ["h"], () => batches(10, false), 32)).get("h");
    expect(rows?.count).toBe(32);
    const fromBatch = new Set<number>();
    for (let r = 0; r < 32; r++) fromBatch.add(Math.floor((rows?.rows[r * W] as number) / 100));
    // 160 rows seen, 32 kept uniformly: rows of the last half of the data are there too.
    expect([...fromBatch].some((b) => b >= 5)).toBe(true);
    expect(fromBatch.size).toBeGreaterThanOrEqual(6);
  });

  it("skips rows at positions the attention mask pads", async () => {
    const rows = (await collectActivationRows(identityModel(true), ["h"], () => batches(3, true), 1000)).get("h");
    // 3 batches x 2 samples x 6 unpadded positions.
    expect(rows?.count).toBe(36);
    for (let r = 0; r < 36; r++) expect((rows?.rows[r * W] as number) % 100).toBeLessThan(6);
  });
});
