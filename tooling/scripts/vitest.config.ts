import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [{ extends: true, test: { name: "scripts", include: ["src/**/*.test.ts"], testTimeout: 120_000 } }],
  },
});
