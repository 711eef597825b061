import { ZeropointError } from "@zeropoint/core";
import { describe, expect, it } from "vitest";
import { readSafetensors } from "./safetensors.js";

const DTYPES = ["F32", "F16", "BF16", "F64", "I64", "I32", "I16", "I8", "U8", "BOOL", "F8", "", 7, null];
const VALUES: unknown[] = [0, 1, 2, 3, -1, 4, 8, 12, 2 ** 31, 2 ** 53, 1.5, "4", null, [], {}, true];

/** A valid two-tensor file, then 1–3 structure-aware edits of its header (valid JSON, wrong meaning). */
function mutated(seed: number): Uint8Array {
  let s = seed >>> 0 || 1;
  const rand = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;
  const header: Record<string, unknown> = {
    a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
    b: { dtype: "F16", shape: [2], data_offsets: [8, 12] },
    __metadata__: { format: "pt" },
  };
  const edits = 1 + Math.floor(rand() * 3);
  for (let i = 0; i < edits; i++) {
    const key = pick(["a", "b", "c", "__metadata__"]);
    const current = header[key];
    const entry = (typeof current === "object" && current !== null && !Array.isArray(current) ? current : {}) as Record<
      string,
      unknown
    >;
    switch (Math.floor(rand() * 7)) {
      case 0:
        entry.dtype = pick(DTYPES);
        break;
      case 1:
        entry.shape = rand() < 0.5 ? [pick(VALUES), pick(VALUES)] : pick(VALUES);
        break;
      case 2:
        entry.data_offsets = rand() < 0.5 ? [pick(VALUES), pick(VALUES)] : pick(VALUES);
        break;
      case 3:
        header[key] = pick([null, 1, "x", [], true]);
        continue;
      case 4:
        delete entry[pick(["dtype", "shape", "data_offsets"])];
        break;
      default:
        entry.extra = pick(VALUES);
    }
    header[key] = entry;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const dataLength = pick([12, 0, 8, 16, 11]);
  const out = new Uint8Array(8 + json.length + dataLength);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(rand() < 0.05 ? json.length + 3 : json.length), true);
  out.set(json, 8);
  for (let i = 0; i < dataLength; i++) out[8 + json.length + i] = Math.floor(rand() * 256);
  return out;
}

describe("fuzzing the safetensors reader", () => {
  it("2,000 structure-mutated headers end in tensors or a typed error naming the file", () => {
    const counts: Record<string, number> = {};
    let worst = 0;
    for (let seed = 1; seed <= 2_000; seed++) {
      const bytes = mutated(seed);
      const started = performance.now();
      try {
        readSafetensors(bytes, `case-${seed}.safetensors`);
        counts.read = (counts.read ?? 0) + 1;
      } catch (e) {
        if (!ZeropointError.isInstance(e)) throw new Error(`seed ${seed}: untyped ${(e as Error).stack}`);
        expect(e.message).toContain(`case-${seed}.safetensors`);
        counts[e.code] = (counts[e.code] ?? 0) + 1;
      }
      worst = Math.max(worst, performance.now() - started);
    }
    console.log(`safetensors fuzz: 2000 cases, worst ${worst.toFixed(1)} ms`, counts);
    expect(counts.read ?? 0).toBeGreaterThan(10);
    expect(counts["invalid-model"] ?? 0).toBeGreaterThan(500);
  });
});
