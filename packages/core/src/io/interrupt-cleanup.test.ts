import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { onInterrupt, staleTempFiles, tempFileOwner } from "./interrupt-cleanup.js";

describe("temp files of interrupted writers", () => {
  it("reads the writer's pid from <target>.tmp-<pid>-<random>", () => {
    expect(tempFileOwner("m.onnx.tmp-1234-ab12cd", "m.onnx")).toBe(1234);
    expect(tempFileOwner("m.onnx.data.tmp-1234-ab12cd", "m.onnx")).toBeUndefined();
    expect(tempFileOwner("m.onnx.data.tmp-1234-ab12cd", "m.onnx.data")).toBe(1234);
    expect(tempFileOwner("m.onnx.tmp-x-1", "m.onnx")).toBeUndefined();
    expect(tempFileOwner("other.onnx", "m.onnx")).toBeUndefined();
  });

  it("only files of writers that no longer run are stale", () => {
    const dead = spawnSync(process.execPath, ["-e", ""]).pid as number;
    const names = [`m.onnx.tmp-${dead}-a1`, `m.onnx.tmp-${process.pid}-b2`, `m.onnx.tmp-${process.ppid}-c3`, "m.onnx"];
    expect(staleTempFiles(names, ["m.onnx"])).toEqual([`m.onnx.tmp-${dead}-a1`]);
  });

  it("a registered cleanup installs one handler per signal and unregistering keeps it (a pending signal is never dropped)", () => {
    const before = process.listenerCount("SIGTERM");
    const off = onInterrupt(() => {});
    const during = process.listenerCount("SIGTERM");
    expect(during).toBeGreaterThanOrEqual(before);
    expect(during).toBeLessThanOrEqual(before + 1);
    off();
    expect(process.listenerCount("SIGTERM")).toBe(during);
    onInterrupt(() => {})();
    expect(process.listenerCount("SIGTERM")).toBe(during);
  });
});
