import { spawn } from "node:child_process";
import { dirname, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const pkg = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const CASES = 500;
const PER_CASE_MS = 5_000;
const TOTAL_MS = 90_000;

interface Outcome {
  seed: number;
  outcome: "ran" | "typed-error" | "untyped-error" | "crash" | "hang";
  code?: string;
  message?: string;
}

/**
 * Acceptance (issue 3): mutated bytes of mlp_fp32.onnx (flips in the graph structure and in weights,
 * truncations), random calibration, >= 500 cases in <= 90 s, 5 s per case. Each case must end in a
 * ZeropointError or a quantized model that onnxruntime runs: never an untyped exception, a hang or a
 * native abort. Cases run in a worker process; a worker that dies or stalls fails the case it was on.
 */
describe("fuzzing the quantizer with mutated models", () => {
  it(`${CASES} mutated MLPs end in a typed error or a model that runs`, async () => {
    const started = Date.now();
    const outcomes: Outcome[] = [];
    let seed = 1;
    while (outcomes.length < CASES) {
      const worker = spawn(
        process.execPath,
        ["--conditions=@zeropoint/source", "--import", "tsx", "test-fixtures/fuzz-worker.ts"],
        {
          cwd: pkg,
          stdio: ["pipe", "pipe", "ignore"],
        },
      );
      const replies = createInterface({ input: worker.stdout });
      const iterator = replies[Symbol.asyncIterator]();
      let alive = true;
      const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
      while (alive && outcomes.length < CASES) {
        const current = seed++;
        worker.stdin.write(`${JSON.stringify({ seed: current })}\n`);
        let timer: NodeJS.Timeout | undefined;
        const reply = await Promise.race([
          iterator.next().then((r) => (r.done ? "crash" : r.value)),
          exited.then(() => "crash" as const),
          new Promise<"hang">((resolve) => {
            timer = setTimeout(() => resolve("hang"), PER_CASE_MS);
          }),
        ]);
        clearTimeout(timer);
        if (reply === "crash" || reply === "hang") {
          outcomes.push({ seed: current, outcome: reply });
          worker.kill("SIGKILL");
          alive = false;
        } else outcomes.push(JSON.parse(reply) as Outcome);
      }
      worker.stdin.end();
      worker.kill();
    }
    const elapsed = Date.now() - started;
    const counts = outcomes.reduce<Record<string, number>>((acc, o) => {
      const key = o.outcome === "typed-error" ? `typed-error:${o.code}` : o.outcome;
      acc[key] = (acc[key] ?? 0) + 1;
      return acc;
    }, {});
    console.log(`fuzz: ${outcomes.length} cases in ${(elapsed / 1000).toFixed(1)} s`, counts);
    const bad = outcomes.filter((o) => o.outcome !== "ran" && o.outcome !== "typed-error");
    expect(bad.slice(0, 5)).toEqual([]);
    expect(outcomes.length).toBeGreaterThanOrEqual(CASES);
    expect(elapsed).toBeLessThanOrEqual(TOTAL_MS);
    // The mutations must actually exercise both outcomes.
    expect(counts.ran ?? 0).toBeGreaterThan(10);
    expect(outcomes.filter((o) => o.outcome === "typed-error").length).toBeGreaterThan(10);
  });
});
