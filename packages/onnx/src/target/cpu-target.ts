import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import {
  type CpuFeatures,
  INTEGER_KERNELS,
  type IntegerKernel,
  integerKernelFromFeatures,
  kernelForTargetCpu,
  parseCpuinfo,
  type TargetCpu,
  ZeropointError,
} from "@zeropoint/core";
import { encodeModel } from "../model/model-io.js";
import { DataType, type OnnxModel, type OnnxValueInfo } from "../model/onnx-schema.js";
import { loadOnnxruntime, type OrtModule } from "../runtime/onnxruntime.js";

/** What the machine (or a named target) does with 8-bit integer GEMMs in onnxruntime. */
export interface CpuTarget {
  /** `auto` when detected on this machine, else the `--target-cpu` name. */
  readonly requested: TargetCpu;
  readonly kernel: IntegerKernel;
  readonly label: string;
  /** Whether uint8 × int8 GEMMs saturate int16 pair sums on this target (see core's kernel table). */
  readonly u8s8Saturates: boolean;
  /** CPU model name (empty for a named target). */
  readonly model: string;
  /** How the kernel was decided. */
  readonly evidence: {
    /** From feature flags (`/proc/cpuinfo` on Linux); undefined when the OS lists none. */
    readonly flags?: IntegerKernel;
    /** The probe's verdict: a U8S8 MatMulInteger whose exact answer overflows int16 pair sums. */
    readonly probe?: { readonly exact: number; readonly got: number; readonly saturates: boolean };
    readonly note?: string;
  };
  /** onnxruntime-node's version when probed. */
  readonly onnxruntimeVersion?: string;
}

/** The features of this machine: `/proc/cpuinfo` on Linux, `os.cpus()` (model only) elsewhere. */
export function readCpuFeatures(cpuinfoPath = "/proc/cpuinfo"): CpuFeatures {
  const arch = process.arch === "x64" ? "x64" : process.arch === "arm64" ? "arm64" : "other";
  if (process.platform === "linux") {
    try {
      const parsed = parseCpuinfo(readFileSync(cpuinfoPath, "utf8"));
      // Some arm64 kernels print no "Features" line for every core; trust process.arch then.
      return { ...parsed, architecture: parsed.architecture === "other" ? arch : parsed.architecture };
    } catch {
      // Containers without /proc fall through to os.cpus().
    }
  }
  return { architecture: arch, flags: new Set(), model: cpus()[0]?.model ?? "" };
}

// A=[1,4] of 255, B=[4,1] of 127: the exact dot product is 4·255·127 = 129540, while a kernel that
// saturates pair sums returns 2·32767 = 65534. One row and one column keep the probe under 1 ms.
const PROBE_K = 4;
const PROBE_EXACT = PROBE_K * 255 * 127;

function probeModel(): Uint8Array {
  const info = (name: string, elemType: number, dims: number[]): OnnxValueInfo => ({
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
  });
  const model: OnnxModel = {
    irVersion: 8,
    opsetImport: [{ domain: "", version: 13 }],
    producerName: "zeropoint-cpu-probe",
    graph: {
      name: "probe",
      node: [{ opType: "MatMulInteger", input: ["A", "B"], output: ["Y"], name: "probe", attribute: [] }],
      input: [info("A", DataType.UINT8, [1, PROBE_K]), info("B", DataType.INT8, [PROBE_K, 1])],
      output: [info("Y", DataType.INT32, [1, 1])],
      initializer: [],
      valueInfo: [],
    },
  } as OnnxModel;
  return encodeModel(model);
}

/** Runs the saturation probe in onnxruntime-node (one thread, CPU provider). */
export async function probeU8S8Saturation(
  ort?: OrtModule,
): Promise<{ exact: number; got: number; saturates: boolean }> {
  const runtime = ort ?? (await loadOnnxruntime());
  const session = await runtime.InferenceSession.create(probeModel(), {
    executionProviders: ["cpu"],
    intraOpNumThreads: 1,
    graphOptimizationLevel: "disabled",
  });
  try {
    const out = await session.run({
      A: new runtime.Tensor("uint8", new Uint8Array(PROBE_K).fill(255), [1, PROBE_K]),
      B: new runtime.Tensor("int8", new Int8Array(PROBE_K).fill(127), [PROBE_K, 1]),
    });
    const data = out.Y?.data as Int32Array | undefined;
    const got = data?.[0] ?? Number.NaN;
    return { exact: PROBE_EXACT, got, saturates: got !== PROBE_EXACT };
  } finally {
    await session.release();
  }
}

/**
 * Combines the flag prediction with the probe. The probe is what onnxruntime actually did, so it
 * wins: a hypervisor that hides AVX-512 from `/proc/cpuinfo` but not from CPUID, or an onnxruntime
 * build without a VNNI kernel, shows up as a disagreement that the note names.
 */
export function decideKernel(
  features: CpuFeatures,
  probe: { exact: number; got: number; saturates: boolean } | undefined,
): { kernel: IntegerKernel; u8s8Saturates: boolean; note?: string } {
  const fromFlags = integerKernelFromFeatures(features);
  const predicted = INTEGER_KERNELS[fromFlags].u8s8Saturates;
  if (probe === undefined) return { kernel: fromFlags, u8s8Saturates: predicted };
  if (probe.saturates === predicted) return { kernel: fromFlags, u8s8Saturates: predicted };
  if (probe.saturates) {
    // The flags promised an exact kernel (or said nothing): onnxruntime used a saturating one.
    const kernel: IntegerKernel = features.flags.has("avx512bw") ? "x64-avx512" : "x64-avx2";
    return {
      kernel,
      u8s8Saturates: true,
      note: `flags suggest ${fromFlags}, but the probe saturated (${probe.got} instead of ${probe.exact})`,
    };
  }
  return {
    kernel: features.architecture === "x64" ? "x64-avx512-vnni" : fromFlags,
    u8s8Saturates: false,
    note: `flags suggest ${fromFlags}, but the probe was exact`,
  };
}

let detected: Promise<CpuTarget> | undefined;

/**
 * Tells which integer kernel onnxruntime uses on this machine (flags confirmed by the probe), or
 * describes a named target. Detection runs once per process.
 */
export function resolveCpuTarget(target: TargetCpu = "auto"): Promise<CpuTarget> {
  if (target !== "auto") {
    const kernel = kernelForTargetCpu(target);
    const info = INTEGER_KERNELS[kernel];
    return Promise.resolve({
      requested: target,
      kernel,
      label: info.label,
      u8s8Saturates: info.u8s8Saturates,
      model: "",
      evidence: { note: `--target-cpu ${target}` },
    });
  }
  detected ??= (async (): Promise<CpuTarget> => {
    const features = readCpuFeatures();
    let ort: OrtModule | undefined;
    try {
      ort = await loadOnnxruntime();
    } catch (e) {
      // Quantizing without calibration needs no onnxruntime; the flags alone decide then.
      if (!(ZeropointError.isInstance(e) && e.code === "missing-dependency")) throw e;
    }
    let probe: { exact: number; got: number; saturates: boolean } | undefined;
    if (ort !== undefined) {
      try {
        probe = await probeU8S8Saturation(ort);
      } catch (cause) {
        throw new ZeropointError("io-error", "the onnxruntime CPU probe (one MatMulInteger) failed to run", {
          cause,
        });
      }
    }
    const decided = decideKernel(features, probe);
    return {
      requested: "auto" as const,
      kernel: decided.kernel,
      label: INTEGER_KERNELS[decided.kernel].label,
      u8s8Saturates: decided.u8s8Saturates,
      model: features.model,
      evidence: {
        ...(features.flags.size > 0 ? { flags: integerKernelFromFeatures(features) } : {}),
        ...(probe !== undefined ? { probe } : {}),
        ...(decided.note !== undefined
          ? { note: decided.note }
          : probe === undefined
            ? { note: "onnxruntime-node is not installed: decided from the feature flags alone" }
            : {}),
      },
      ...(ort !== undefined ? { onnxruntimeVersion: ort.env.versions?.node ?? ort.env.versions?.common ?? "" } : {}),
    };
  })().catch((e: unknown) => {
    detected = undefined;
    throw e;
  });
  return detected as Promise<CpuTarget>;
}

/** One line per fact, for `zeropoint doctor`. */
export function describeCpuTarget(t: CpuTarget): string[] {
  const lines = [
    `CPU: ${t.model || "(model not reported)"}`,
    `integer kernel: ${t.kernel} — ${t.label}`,
    `uint8 x int8 saturates int16 pair sums: ${t.u8s8Saturates ? "yes" : "no"}`,
  ];
  if (t.evidence.flags !== undefined) lines.push(`from feature flags: ${t.evidence.flags}`);
  if (t.evidence.probe !== undefined) {
    const p = t.evidence.probe;
    lines.push(`probe (MatMulInteger 255·127·4): ${p.got} (exact ${p.exact}) → ${p.saturates ? "saturates" : "exact"}`);
  }
  if (t.evidence.note !== undefined) lines.push(`note: ${t.evidence.note}`);
  if (t.onnxruntimeVersion !== undefined) lines.push(`onnxruntime-node: ${t.onnxruntimeVersion}`);
  if (t.u8s8Saturates) {
    lines.push(
      "default for static/dynamic int8: 7-bit weights (reduce_range) keep the fast U8S8 kernel without saturation",
    );
  }
  return lines;
}
