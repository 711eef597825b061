import { defineConfig } from "vitest/config";

// Two projects per package: fast unit tests, and the `slow` project for heavy work
// (fuzzing, memory, training). Both run in `pnpm test`; `--project` selects one.
export default defineConfig({
  resolve: { conditions: ["@zeropoint/source"] },
  ssr: { resolve: { conditions: ["@zeropoint/source"] } },
  test: {
    // Writes .test-results/meta.json (commit, turbo task hash): evidence for `zeropoint matrix`.
    globalSetup: ["../../tooling/test-helpers/src/test-run-meta.ts"],
    projects: [
      {
        extends: true,
        test: { name: "core", include: ["src/**/*.test.ts"], exclude: ["src/**/*.slow.test.ts"], testTimeout: 60_000 },
      },
      {
        extends: true,
        test: { name: "core:slow", include: ["src/**/*.slow.test.ts"], testTimeout: 600_000 },
      },
    ],
  },
});
