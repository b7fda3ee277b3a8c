// Prints "tests: N passed, N failed" from the vitest and Playwright JSON reports that
// the suites write under .reports/ when CI is set.
import { existsSync, readFileSync } from "node:fs";

let passed = 0;
let failed = 0;
let skipped = 0;

if (existsSync(".reports/vitest.json")) {
  const report = JSON.parse(readFileSync(".reports/vitest.json", "utf8"));
  passed += report.numPassedTests ?? 0;
  failed += report.numFailedTests ?? 0;
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
}
if (existsSync(".reports/playwright.json")) {
  const { stats } = JSON.parse(readFileSync(".reports/playwright.json", "utf8"));
  passed += stats?.expected ?? 0;
  failed += (stats?.unexpected ?? 0) + (stats?.flaky ?? 0);
  skipped += stats?.skipped ?? 0;
}
console.log(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
if (passed === 0) {
  console.error("no test ran");
  process.exit(1);
}
