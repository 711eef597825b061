import { spawnSync } from "node:child_process";

/**
 * The CPU a test emulates to check behaviour this machine's CPU cannot show: on x86-64 hosts an AMD
 * EPYC Zen 3 (`EPYC-Milan`: AVX2, no AVX-512, no VNNI), the CPU whose saturating U8S8 kernel the
 * quantizer must handle; on arm64 hosts a Cortex-A72 (NEON without dot product), the oldest arm64
 * kernel onnxruntime has. qemu-user runs this same Node binary with that CPU's CPUID, so
 * onnxruntime's MLAS dispatches exactly as it would on the real CPU (timings are meaningless).
 */
export const EMULATED_CPU =
  process.arch === "arm64"
    ? { qemu: "qemu-aarch64", cpu: "cortex-a72", u8s8Saturates: false, label: "Cortex-A72 (arm64, no dot product)" }
    : { qemu: "qemu-x86_64", cpu: "EPYC-Milan", u8s8Saturates: true, label: "AMD EPYC Zen 3 (AVX2, no VNNI)" };

/**
 * Runs a TypeScript file (with the workspace's source condition) under the emulated CPU and returns
 * its stdout. qemu-user is a test dependency that `.ci/run` installs (Debian `qemu-user`); without
 * it this throws, so the tests that need it fail rather than skip.
 */
export function runOnEmulatedCpu(script: string, args: readonly string[] = [], timeoutMs = 600_000): string {
  const result = spawnSync(
    EMULATED_CPU.qemu,
    ["-cpu", EMULATED_CPU.cpu, process.execPath, "--conditions=@zeropoint/source", "--import", "tsx", script, ...args],
    // The calling package (vitest runs in it) has tsx among its devDependencies.
    {
      cwd: process.cwd(),
      env: { ...process.env, ZEROPOINT_EMULATED_CPU: EMULATED_CPU.cpu },
      encoding: "utf8",
      timeout: timeoutMs,
      maxBuffer: 256 * 1024 * 1024,
    },
  );
  if (result.error !== undefined) {
    throw new Error(
      `${EMULATED_CPU.qemu} could not run (${result.error.message}); install Debian's qemu-user (.ci/run does)`,
    );
  }
  if (result.status !== 0) {
    const stderr = result.stderr
      .split("\n")
      .filter((l) => !l.includes("TCG doesn't support requested feature"))
      .join("\n");
    throw new Error(`${script} failed under ${EMULATED_CPU.label} (exit ${result.status}):\n${stderr}`);
  }
  return result.stdout;
}
