import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HistoryEntry } from "@zeropoint/core";
import { afterAll, describe, expect, it } from "vitest";
import { historyDigest, openHistory } from "./tune-history.js";

const work = mkdtempSync(join(tmpdir(), "zeropoint-history-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const entry = { key: "a|b", metric: 0.97, sizeBytes: 10 } as unknown as HistoryEntry;
const digestOf = (model: number, maxLoss = "0.5%") =>
  historyDigest({ model: Uint8Array.of(model), settings: { maxLoss }, data: ["mnist:train", "mnist:test-even"] });

describe("tune history", () => {
  it("a digest changes with the model, the settings and the data", () => {
    expect(digestOf(1)).toBe(digestOf(1));
    expect(digestOf(1)).not.toBe(digestOf(2));
    expect(digestOf(1)).not.toBe(digestOf(1, "1%"));
    const other = historyDigest({ model: Uint8Array.of(1), settings: { maxLoss: "0.5%" }, data: ["random"] });
    expect(other).not.toBe(digestOf(1));
  });

  it("resumes its own run, and refuses a history of another model with a typed error", () => {
    const file = join(work, "h.jsonl");
    const first = openHistory(file, digestOf(1));
    expect(first.entries).toEqual([]);
    first.append(entry);
    expect(openHistory(file, digestOf(1)).entries).toEqual([entry]);
    expect(() => openHistory(file, digestOf(2))).toThrow(
      expect.objectContaining({ code: "invalid-state", message: expect.stringContaining("another model") }),
    );
  });

  it("a torn last line (killed mid-write) is dropped, and appending goes on cleanly", () => {
    const file = join(work, "torn.jsonl");
    const h = openHistory(file, digestOf(1));
    h.append(entry);
    appendFileSync(file, '{"key":"a","met');
    const resumed = openHistory(file, digestOf(1));
    expect(resumed.dropped).toBe(true);
    expect(resumed.entries).toEqual([entry]);
    resumed.append(entry);
    expect(openHistory(file, digestOf(1)).entries).toEqual([entry, entry]);
    expect(readFileSync(file, "utf8").endsWith("}\n")).toBe(true);
  });

  it("a file without the header (older zeropoint, or not a history) is refused", () => {
    const file = join(work, "old.jsonl");
    writeFileSync(file, `${JSON.stringify(entry)}\n`);
    expect(() => openHistory(file, digestOf(1))).toThrow(expect.objectContaining({ code: "invalid-state" }));
  });
});
