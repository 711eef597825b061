import { spawn } from "node:child_process";
import { dirname, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const pkg = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

interface Outcome {
  seed: number;
  outcome: "ran" | "typed-error" | "untyped-error" | "crash" | "hang";
  code?: string;
  message?: string;
  ms: number;
}

/**
 * Runs `cases` fuzz cases of one kind in `workers` worker processes (seeds interleaved), each case
 * limited to `perCaseMs`; a worker that dies or stalls fails the case it was on and is replaced.
 */
async function fuzz(
  kind: "bytes" | "structure",
  cases: number,
  workers: number,
  perCaseMs: number,
): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  let next = 1;
  const take = () => (next <= cases ? next++ : undefined);
  async function lane(): Promise<void> {
    let seed = take();
    while (seed !== undefined) {
      const worker = spawn(
        process.execPath,
        ["--conditions=@zeropoint/source", "--import", "tsx", "test-fixtures/fuzz-worker.ts"],
        {
          cwd: pkg,
          stdio: ["pipe", "pipe", "ignore"],
        },
      );
      const iterator = createInterface({ input: worker.stdout })[Symbol.asyncIterator]();
      const exited = new Promise<void>((r) => worker.once("exit", () => r()));
      let alive = true;
      while (alive && seed !== undefined) {
        const current: number = seed;
        const started = Date.now();
        worker.stdin.write(`${JSON.stringify({ seed: current, kind })}\n`);
        let timer: NodeJS.Timeout | undefined;
        const reply = await Promise.race([
          iterator.next().then((r) => (r.done ? "crash" : r.value)),
          exited.then(() => "crash" as const),
          new Promise<"hang">((r) => {
            timer = setTimeout(() => r("hang"), perCaseMs);
          }),
        ]);
        clearTimeout(timer);
        const ms = Date.now() - started;
        if (reply === "crash" || reply === "hang") {
          outcomes.push({ seed: current, outcome: reply, ms });
          worker.kill("SIGKILL");
          alive = false;
        } else outcomes.push({ ...(JSON.parse(reply) as Omit<Outcome, "ms">), ms });
        seed = take();
      }
      worker.stdin.end();
      worker.kill();
    }
  }
  await Promise.all(Array.from({ length: workers }, lane));
  return outcomes;
}

function summarize(label: string, outcomes: Outcome[], elapsed: number): Record<string, number> {
  const counts = outcomes.reduce<Record<string, number>>((acc, o) => {
    const key = o.outcome === "typed-error" ? `typed-error:${o.code}` : o.outcome;
    acc[key] = (acc[key] ?? 0) + 1;
    return acc;
  }, {});
  const worst = outcomes.reduce((a, o) => (o.ms > a.ms ? o : a), outcomes[0] as Outcome);
  console.log(
    `fuzz ${label}: ${outcomes.length} cases in ${(elapsed / 1000).toFixed(1)} s, worst case ${worst.ms} ms (seed ${worst.seed})`,
    counts,
  );
  return counts;
}

/**
 * Acceptance (issue 3, extended by issue 15): mutated models end in a ZeropointError or a quantized
 * model that onnxruntime runs: never an untyped exception, a hang or a native abort. Byte flips and
 * truncations of mlp_fp32.onnx exercise the decoder; structure-aware edits (valid protobuf, wrong
 * dims, dtypes, node inputs, attribute types, subgraphs, opsets, duplicate names) the semantics.
 */
describe("fuzzing the quantizer with mutated models", () => {
  it("500 byte-mutated MLPs end in a typed error or a model that runs (<= 90 s, 5 s a case)", async () => {
    const started = Date.now();
    const outcomes = await fuzz("bytes", 500, 1, 5_000);
    const elapsed = Date.now() - started;
    const counts = summarize("bytes", outcomes, elapsed);
    expect(outcomes.filter((o) => o.outcome !== "ran" && o.outcome !== "typed-error").slice(0, 5)).toEqual([]);
    expect(outcomes.length).toBe(500);
    expect(elapsed).toBeLessThanOrEqual(90_000);
    expect(counts.ran ?? 0).toBeGreaterThan(10);
    expect(outcomes.filter((o) => o.outcome === "typed-error").length).toBeGreaterThan(10);
  });

  it("2,000 structure-mutated MLPs end in a typed error or a model that runs (10 s a case)", async () => {
    const started = Date.now();
    const outcomes = await fuzz("structure", Number(process.env.FUZZ_CASES ?? 2_000), 2, 10_000);
    const counts = summarize("structure", outcomes, Date.now() - started);
    expect(outcomes.filter((o) => o.outcome !== "ran" && o.outcome !== "typed-error").slice(0, 5)).toEqual([]);
    expect(outcomes.length).toBe(2_000);
    expect(Math.max(...outcomes.map((o) => o.ms))).toBeLessThan(10_000);
    expect(counts.ran ?? 0).toBeGreaterThan(10);
    expect(outcomes.filter((o) => o.outcome === "typed-error").length).toBeGreaterThan(100);
  });
});
