import { ZeropointError } from "../errors/zeropoint-error.js";

/**
 * The integer GEMM kernel families onnxruntime's MLAS dispatches to, by CPU feature. One table
 * ({@link INTEGER_KERNELS}) says what each one does with uint8 × int8 (U8S8) operands, the pair the
 * quantizer emits by default (uint8 activations, int8 weights), and everything that needs to know
 * (the quantizer's defaults, `zeropoint doctor`, the kernel tests' reference) reads it.
 */
export type IntegerKernel =
  | "x64-amx"
  | "x64-avx512-vnni"
  | "x64-avx-vnni"
  | "x64-avx512"
  | "x64-avx2"
  | "x64-sse41"
  | "x64-sse2"
  | "arm64-i8mm"
  | "arm64-dotprod"
  | "arm64-neon"
  | "wasm"
  | "unknown";

/** What one kernel family does. */
export interface IntegerKernelInfo {
  /** Human-readable name, with the instruction that does the work. */
  readonly label: string;
  /**
   * True when U8S8 products are summed in pairs into int16 with saturation before widening
   * (x86 `pmaddubsw`/`vpmaddubsw`): `sat16(a0·b0 + a1·b1)`, so `255·127·2 = 64770` becomes 32767.
   * Only U8S8 does this: MLAS widens U8U8, S8S8 and S8U8 to int16 before multiplying (measured with
   * onnxruntime-node 1.30 under an emulated Zen 3, see the kernel tests).
   */
  readonly u8s8Saturates: boolean;
  /** True when the CPU has an instruction that makes 8-bit GEMMs faster than float32 GEMMs. */
  readonly fastInt8: boolean;
}

/** The kernel table. */
export const INTEGER_KERNELS: Readonly<Record<IntegerKernel, IntegerKernelInfo>> = {
  "x64-amx": { label: "x86-64 AMX-INT8 (tdpbusd), exact", u8s8Saturates: false, fastInt8: true },
  "x64-avx512-vnni": { label: "x86-64 AVX-512 VNNI (vpdpbusd), exact", u8s8Saturates: false, fastInt8: true },
  "x64-avx-vnni": { label: "x86-64 AVX-VNNI (vpdpbusd ymm), exact", u8s8Saturates: false, fastInt8: true },
  "x64-avx512": {
    label: "x86-64 AVX-512BW without VNNI (vpmaddubsw), U8S8 saturates int16 pair sums",
    u8s8Saturates: true,
    fastInt8: true,
  },
  "x64-avx2": {
    label: "x86-64 AVX2 without VNNI (vpmaddubsw), U8S8 saturates int16 pair sums",
    u8s8Saturates: true,
    fastInt8: true,
  },
  "x64-sse41": {
    label: "x86-64 SSE4.1 (pmaddubsw), U8S8 saturates int16 pair sums",
    u8s8Saturates: true,
    fastInt8: false,
  },
  "x64-sse2": { label: "x86-64 SSE2 (pmaddwd on widened values), exact", u8s8Saturates: false, fastInt8: false },
  "arm64-i8mm": { label: "arm64 I8MM (usmmla/smmla), exact", u8s8Saturates: false, fastInt8: true },
  "arm64-dotprod": { label: "arm64 dot product (udot/sdot), exact", u8s8Saturates: false, fastInt8: true },
  "arm64-neon": { label: "arm64 NEON without dot product (umull/smull), exact", u8s8Saturates: false, fastInt8: false },
  wasm: { label: "WebAssembly (widening i16x8 dot product), exact", u8s8Saturates: false, fastInt8: false },
  unknown: { label: "unknown CPU (no feature flags)", u8s8Saturates: false, fastInt8: false },
};

/** Values `--target-cpu` takes; `auto` means the machine that runs the quantizer. */
export const TARGET_CPUS = ["auto", "avx2", "avx512", "vnni", "arm64", "wasm"] as const;
/** One of {@link TARGET_CPUS}. */
export type TargetCpu = (typeof TARGET_CPUS)[number];

/** The kernel a named target stands for (`auto` has none until the machine is detected). */
export function kernelForTargetCpu(target: Exclude<TargetCpu, "auto">): IntegerKernel {
  switch (target) {
    case "avx2":
      return "x64-avx2";
    case "avx512":
      return "x64-avx512";
    case "vnni":
      return "x64-avx512-vnni";
    case "arm64":
      return "arm64-dotprod";
    case "wasm":
      return "wasm";
  }
}

/** Parses a `--target-cpu` value. */
export function parseTargetCpu(value: string): TargetCpu {
  if ((TARGET_CPUS as readonly string[]).includes(value)) return value as TargetCpu;
  throw new ZeropointError("invalid-argument", `unknown --target-cpu ${value} (use ${TARGET_CPUS.join(", ")})`);
}

/** What `/proc/cpuinfo` (or another source) says about the CPU. */
export interface CpuFeatures {
  readonly architecture: "x64" | "arm64" | "wasm" | "other";
  /** Lower-case feature flags (`avx2`, `avx512_vnni`, `asimddp`, ...); empty when unknown. */
  readonly flags: ReadonlySet<string>;
  /** `model name` (x86) or implementer/part (arm64); empty when unknown. */
  readonly model: string;
}

/**
 * Reads Linux `/proc/cpuinfo` text: the first processor's `flags` (x86) or `Features` (arm64) line
 * and its model. Every processor of a machine has the same flags, so the first suffices.
 */
export function parseCpuinfo(text: string): CpuFeatures {
  let flags: string[] | undefined;
  let model = "";
  let architecture: CpuFeatures["architecture"] | undefined;
  let implementer = "";
  let part = "";
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (key === "flags" && flags === undefined) {
      flags = value.split(/\s+/).filter((f) => f.length > 0);
      architecture = "x64";
    } else if (key === "features" && flags === undefined) {
      flags = value.split(/\s+/).filter((f) => f.length > 0);
      architecture = "arm64";
    } else if (key === "model name" && model === "") model = value;
    else if (key === "cpu implementer" && implementer === "") implementer = value;
    else if (key === "cpu part" && part === "") part = value;
  }
  if (model === "" && implementer !== "") model = `implementer ${implementer} part ${part}`;
  return {
    architecture: architecture ?? "other",
    flags: new Set((flags ?? []).map((f) => f.toLowerCase())),
    model,
  };
}

/**
 * The kernel MLAS picks for these features, in MLAS's order of preference. AVX-512 VNNI needs
 * AVX-512BW as well (MLAS enables its AVX-512 kernels only with BW/DQ/VL); AMX needs `amx_int8`
 * and `amx_tile` (Linux lists them once the kernel has enabled the tile state).
 */
export function integerKernelFromFeatures(features: CpuFeatures): IntegerKernel {
  const f = features.flags;
  if (features.architecture === "wasm") return "wasm";
  if (features.architecture === "arm64") {
    if (f.has("i8mm")) return "arm64-i8mm";
    if (f.has("asimddp")) return "arm64-dotprod";
    return f.size > 0 ? "arm64-neon" : "arm64-dotprod";
  }
  if (features.architecture !== "x64" || f.size === 0) return "unknown";
  const avx512 = f.has("avx512f") && f.has("avx512bw");
  if (f.has("amx_int8") && f.has("amx_tile")) return "x64-amx";
  if (avx512 && f.has("avx512_vnni")) return "x64-avx512-vnni";
  if (f.has("avx_vnni") && f.has("avx2")) return "x64-avx-vnni";
  if (avx512) return "x64-avx512";
  if (f.has("avx2")) return "x64-avx2";
  if (f.has("sse4_1")) return "x64-sse41";
  return "x64-sse2";
}

/**
 * The largest U8S8 pair sum a weight matrix can produce against any uint8 activations: for each
 * output column, `255 · max over adjacent depth pairs (|w[2p]| + |w[2p+1]|)` (MLAS pairs depth
 * indices 2p and 2p+1 of its packed K order). A result ≤ 32767 proves that no input can saturate.
 *
 * @param weight row-major `[k, n]` int8 weights in the kernel's depth order
 */
export function maxU8S8PairSum(weight: Int8Array, k: number, n: number): number {
  if (weight.length !== k * n) {
    throw new ZeropointError("shape-mismatch", `weight has ${weight.length} values, expected ${k}×${n}`);
  }
  let worst = 0;
  for (let p = 0; p < k; p += 2) {
    const row0 = p * n;
    const row1 = p + 1 < k ? (p + 1) * n : -1;
    for (let j = 0; j < n; j++) {
      const s = Math.abs(weight[row0 + j] as number) + (row1 >= 0 ? Math.abs(weight[row1 + j] as number) : 0);
      if (s > worst) worst = s;
    }
  }
  return worst * 255;
}

/** int16 maximum: the saturation point of a `vpmaddubsw` pair sum. */
export const INT16_MAX = 32767;

/**
 * The int8 weight range that keeps every U8S8 pair sum inside int16 for any activation:
 * onnxruntime's `reduce_range` table for int8 (−64..64) bounds a pair by 2·255·64 = 32640 ≤ 32767.
 */
export const NON_SATURATING_WEIGHT_RANGE = { qmin: -64, qmax: 64 } as const;
