import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { conditions: ["@zeropoint/source"] },
  ssr: { resolve: { conditions: ["@zeropoint/source"] } },
  test: {
    // Writes .test-results/meta.json (commit, turbo task hash): evidence for `zeropoint matrix`.
    globalSetup: ["../../tooling/test-helpers/src/test-run-meta.ts"],
    projects: [
      {
        extends: true,
        test: { name: "cli", include: ["src/**/*.test.ts"], exclude: ["src/**/*.slow.test.ts"], testTimeout: 180_000 },
      },
      { extends: true, test: { name: "cli:slow", include: ["src/**/*.slow.test.ts"], testTimeout: 900_000 } },
    ],
  },
});
