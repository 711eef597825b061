#!/usr/bin/env node
// The emulated-CPU leg of the test suite: runs core's kernel-vs-onnxruntime tests under qemu-user
// as the CPU this host cannot be (x86-64 hosts: AMD EPYC Zen 3, AVX2 without VNNI, whose uint8 x int8
// kernel saturates; arm64 hosts: Cortex-A72 without dot product, exact), with the expectation set so
// the tests fail if the emulation did not take effect. Threads pool: forked workers would run natively.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const [qemu, cpu, saturates] =
  process.arch === "arm64" ? ["qemu-aarch64", "cortex-a72", "false"] : ["qemu-x86_64", "EPYC-Milan", "true"];
const vitest = join(root, "node_modules/vitest/vitest.mjs");
const result = spawnSync(
  qemu,
  [
    "-cpu",
    cpu,
    process.execPath,
    vitest,
    "run",
    "--pool=threads",
    "--project",
    "core",
    "src/kernels/onnxruntime-kernels.test.ts",
  ],
  {
    cwd: join(root, "packages/core"),
    env: { ...process.env, ZEROPOINT_EXPECT_U8S8_SATURATION: saturates, ZEROPOINT_EMULATED_CPU: cpu },
    encoding: "utf8",
  },
);
if (result.error) {
  console.error(`${qemu} could not run (${result.error.message}); install Debian's qemu-user`);
  process.exit(1);
}
const keep = (text) =>
  text
    .split("\n")
    .filter((l) => !l.includes("TCG doesn't support requested feature"))
    .join("\n");
process.stdout.write(keep(result.stdout));
process.stderr.write(keep(result.stderr));
console.log(`emulated CPU: ${cpu} (${qemu}), expected uint8 x int8 saturation: ${saturates}`);
process.exit(result.status ?? 1);
