import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  INT16_MAX,
  INTEGER_KERNELS,
  integerKernelFromFeatures,
  maxU8S8PairSum,
  NON_SATURATING_WEIGHT_RANGE,
  parseCpuinfo,
  parseTargetCpu,
} from "./integer-kernels.js";

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "../../test-fixtures/cpuinfo");
const fixture = (name: string) => parseCpuinfo(readFileSync(join(FIXTURES, name), "utf8"));

describe("integer kernel from /proc/cpuinfo", () => {
  it.each([
    ["xeon-sapphire-rapids-vnni.txt", "x64-amx", false],
    ["epyc-7763-zen3.txt", "x64-avx2", true],
    ["xeon-gold-6148-skylake-avx512.txt", "x64-avx512", true],
    ["core-i7-12700-alder-lake.txt", "x64-avx-vnni", false],
    ["graviton2-neoverse-n1.txt", "arm64-dotprod", false],
    ["graviton3-neoverse-v1.txt", "arm64-i8mm", false],
    ["raspberry-pi-4-cortex-a72.txt", "arm64-neon", false],
  ] as const)("%s → %s (u8s8 saturates: %s)", (file, kernel, saturates) => {
    const features = fixture(file);
    expect(integerKernelFromFeatures(features)).toBe(kernel);
    expect(INTEGER_KERNELS[kernel].u8s8Saturates).toBe(saturates);
  });

  it("every fixture is covered by the table above", () => {
    const files = readdirSync(FIXTURES).filter((f) => f.endsWith(".txt"));
    expect(files).toHaveLength(7);
  });

  it("reads the model name and the architecture", () => {
    const zen3 = fixture("epyc-7763-zen3.txt");
    expect(zen3.architecture).toBe("x64");
    expect(zen3.model).toBe("AMD EPYC 7763 64-Core Processor");
    expect(zen3.flags.has("avx2")).toBe(true);
    expect(zen3.flags.has("avx512_vnni")).toBe(false);
    const n1 = fixture("graviton2-neoverse-n1.txt");
    expect(n1.architecture).toBe("arm64");
    expect(n1.model).toBe("implementer 0x41 part 0xd0c");
  });

  it("AVX-512 VNNI without AVX-512BW is not the VNNI kernel (MLAS needs BW)", () => {
    const f = { architecture: "x64" as const, flags: new Set(["avx2", "avx512f", "avx512_vnni"]), model: "" };
    expect(integerKernelFromFeatures(f)).toBe("x64-avx2");
  });

  it("no flags at all is unknown on x64 and is never called saturating", () => {
    expect(integerKernelFromFeatures({ architecture: "x64", flags: new Set(), model: "" })).toBe("unknown");
    expect(INTEGER_KERNELS.unknown.u8s8Saturates).toBe(false);
    expect(parseCpuinfo("").architecture).toBe("other");
  });

  it("parses --target-cpu and refuses unknown names with a typed error", () => {
    expect(parseTargetCpu("avx2")).toBe("avx2");
    expect(() => parseTargetCpu("avx3")).toThrow(expect.objectContaining({ code: "invalid-argument" }));
  });
});

describe("maxU8S8PairSum", () => {
  it("bounds the worst pair (closed form)", () => {
    // k = 3, n = 2: column 0 pairs (10, -20) and (5); column 1 pairs (127, 127) and (-1).
    const w = Int8Array.of(10, 127, -20, 127, 5, -1);
    expect(maxU8S8PairSum(w, 3, 2)).toBe(255 * 254);
  });

  it("7-bit weights can never saturate, 8-bit weights can", () => {
    const { qmin } = NON_SATURATING_WEIGHT_RANGE;
    const seven = new Int8Array(64).fill(qmin);
    expect(maxU8S8PairSum(seven, 64, 1)).toBeLessThanOrEqual(INT16_MAX);
    const eight = new Int8Array(64).fill(-128);
    expect(maxU8S8PairSum(eight, 64, 1)).toBeGreaterThan(INT16_MAX);
  });

  it("rejects a shape that does not match", () => {
    expect(() => maxU8S8PairSum(new Int8Array(5), 2, 2)).toThrow(expect.objectContaining({ code: "shape-mismatch" }));
  });
});
