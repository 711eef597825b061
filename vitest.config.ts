import { defineConfig } from "vitest/config";

// `pnpm vitest` from the root runs every package's projects (fast and slow) in one process;
// `pnpm test` runs them per package through turbo.
export default defineConfig({
  test: {
    projects: ["packages/*/vitest.config.ts", "apps/*/vitest.config.ts", "tooling/scripts/vitest.config.ts"],
  },
});
