// Browser tests in Debian's Chromium against a production build served by the real
// custom server, on a free port with a throwaway PGlite database.
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig, devices } from "@playwright/test";

const here = path.dirname(fileURLToPath(import.meta.url));
const webDir = path.resolve(here, "../apps/web");

// Playwright evaluates this file in the runner and again in every worker. Workers inherit
// the runner's environment, so the port and data directory are chosen once and shared.
process.env.E2E_PORT ??= execFileSync(process.execPath, [
  "-e",
  "const s = require('net').createServer(); s.listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); });",
])
  .toString()
  .trim();
process.env.E2E_DATA_DIR ??= mkdtempSync(path.join(os.tmpdir(), "transcend-e2e-"));

const port = process.env.E2E_PORT;
const baseURL = `http://127.0.0.1:${port}`;

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  forbidOnly: Boolean(process.env.CI),
  retries: 0,
  // Two cores are shared with other work; one browser at a time keeps timings honest.
  workers: 1,
  // Under CI a JSON report is also written; .ci/run prints one closing line from it.
  reporter: process.env.CI ? [["list"], ["json", { outputFile: "../.reports/playwright.json" }]] : [["list"]],
  globalTeardown: "./global-teardown.ts",
  use: {
    baseURL,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
  },
  projects: [
    {
      name: "chromium",
      use: {
        ...devices["Desktop Chrome"],
        // Debian's Chromium: Playwright never downloads a browser.
        launchOptions: {
          executablePath: "/usr/bin/chromium",
          args: [
            "--no-sandbox",
            "--headless",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
          ],
        },
      },
    },
  ],
  webServer: {
    command: "node --import tsx server.ts",
    cwd: webDir,
    // `/` answers 503 until Next is ready, so waiting on it waits for pages, not just the port.
    url: `${baseURL}/`,
    env: { PORT: port, HOST: "127.0.0.1", TRANSCEND_DATA_DIR: process.env.E2E_DATA_DIR, DATABASE_URL: "", NEXT_TELEMETRY_DISABLED: "1" },
    reuseExistingServer: false,
    timeout: 180_000,
    stdout: "pipe",
    stderr: "pipe",
    gracefulShutdown: { signal: "SIGTERM", timeout: 10_000 },
  },
});
