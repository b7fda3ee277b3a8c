import { defineConfig } from "vitest/config";

// One `vitest run` at the root runs every workspace's unit and integration tests.
// Under CI a JSON report is also written, from which .ci/run prints one closing line.
export default defineConfig({
  test: {
    projects: ["packages/protocol", "packages/tasks", "db", "runner", "apps/web"],
    reporters: process.env.CI ? ["default", ["json", { outputFile: ".reports/vitest.json" }]] : ["default"],
  },
});
