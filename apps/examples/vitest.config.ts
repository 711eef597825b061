import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { conditions: ["@zeropoint/source"] },
  ssr: { resolve: { conditions: ["@zeropoint/source"] } },
  test: {
    globalSetup: ["../../tooling/test-helpers/src/test-run-meta.ts"],
    projects: [{ extends: true, test: { name: "examples", include: ["src/**/*.test.ts"], testTimeout: 300_000 } }],
  },
});
