import { describe, expect, it } from "vitest";
import { ZeropointError } from "../errors/zeropoint-error.js";
import { AdapterRegistry } from "./adapter-registry.js";
import { ADAPTER_SPECIFICATION_VERSION, type QuantizerAdapter } from "./quantizer-adapter.js";

function adapter(framework: string, version: string = ADAPTER_SPECIFICATION_VERSION): QuantizerAdapter {
  return {
    specificationVersion: version as typeof ADAPTER_SPECIFICATION_VERSION,
    framework,
    variants: [],
    canLoad: () => true,
    load: () => Promise.reject(new Error("unused")),
    fromIr: () => Promise.reject(new Error("unused")),
    quantize: () => Promise.reject(new Error("unused")),
  };
}

describe("AdapterRegistry", () => {
  it("resolves by priority, creating only the adapter it resolves, once", async () => {
    const registry = new AdapterRegistry();
    const created: string[] = [];
    const reg = (framework: string, priority: number, suffix: string) =>
      registry.register({
        framework,
        priority,
        canLoad: (s) => s.endsWith(suffix),
        create: () => {
          created.push(framework);
          return adapter(framework);
        },
      });
    reg("low", 1, ".bin");
    reg("high", 10, ".bin");
    reg("other", 5, ".json");
    expect(registry.frameworks()).toEqual(["high", "other", "low"]);
    expect(registry.frameworkFor("model.json")).toBe("other");
    expect(created).toEqual([]);
    expect((await registry.resolve("m.bin")).framework).toBe("high");
    await registry.resolve("m.bin");
    expect(created).toEqual(["high"]);
    await expect(registry.resolve("m.onnx")).rejects.toThrow(/no registered adapter loads this file/);
  });

  it("refuses another specification version with missing-dependency, and reports unavailable adapters", async () => {
    const registry = new AdapterRegistry();
    registry.register({ framework: "old", canLoad: () => false, create: () => adapter("old", "v0") });
    registry.register({
      framework: "absent",
      canLoad: () => false,
      create: () => {
        throw new ZeropointError("missing-dependency", "npm install absent");
      },
    });
    registry.register({ framework: "fine", canLoad: () => false, create: () => adapter("fine") });
    const error = await registry.get("old").catch((e: unknown) => e);
    expect(ZeropointError.isInstance(error) && error.code).toBe("missing-dependency");
    expect(String(error)).toMatch(/specification v0; this core reads v1/);
    const { adapters, unavailable } = await registry.available();
    expect(adapters.map((a) => a.framework)).toEqual(["fine"]);
    expect(unavailable.map((u) => u.framework)).toEqual(["old", "absent"]);
    expect(unavailable[1]?.reason).toBe("npm install absent");
  });

  it("an unregister function removes only its own registration", async () => {
    const registry = new AdapterRegistry();
    const first = registry.register({ framework: "x", canLoad: () => true, create: () => adapter("x") });
    registry.register({ framework: "x", priority: 2, canLoad: () => true, create: () => adapter("x") });
    first();
    expect(registry.frameworks()).toEqual(["x"]);
    await expect(registry.get("y")).rejects.toThrow(/no adapter registered for y/);
  });
});
