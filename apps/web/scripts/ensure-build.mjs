// Builds the web app (`next build`) unless a build newer than every input exists.
// Used by `npm start` and the e2e suite so neither serves a stale or missing build.
// Exit code: 0 when a fresh build exists afterwards, the build's code otherwise.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const repoRoot = path.resolve(webDir, "../..");
const buildId = path.join(webDir, ".next", "BUILD_ID");

// Everything Next compiles: the app and the workspaces it transpiles. server.ts is not
// compiled by Next (tsx runs it), so it is not an input.
const inputs = [
  path.join(webDir, "src"),
  path.join(webDir, "next.config.ts"),
  path.join(webDir, "postcss.config.mjs"),
  path.join(webDir, "tsconfig.json"),
  path.join(webDir, "package.json"),
  path.join(repoRoot, "packages", "protocol", "src"),
  path.join(repoRoot, "packages", "tasks", "src"),
  path.join(repoRoot, "db", "src"),
  path.join(repoRoot, "package-lock.json"),
];

function newestMtime(target) {
  if (!existsSync(target)) return 0;
  const stat = statSync(target);
  if (!stat.isDirectory()) return /\.test\.tsx?$/.test(target) ? 0 : stat.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(target)) {
    if (entry === "node_modules" || entry.startsWith(".")) continue;
    newest = Math.max(newest, newestMtime(path.join(target, entry)));
  }
  return newest;
}

export function webBuildIsFresh() {
  if (!existsSync(buildId)) return false;
  const builtAt = statSync(buildId).mtimeMs;
  return inputs.every((input) => newestMtime(input) <= builtAt);
}

export function ensureWebBuild({ log = (line) => console.log(line) } = {}) {
  if (webBuildIsFresh()) return 0;
  log(existsSync(buildId) ? "The web app changed since its last build; building it…" : "Building the web app (first start)…");
  const nextBin = path.join(path.dirname(fileURLToPath(import.meta.resolve("next/package.json"))), "dist", "bin", "next");
  const result = spawnSync(process.execPath, [nextBin, "build"], { cwd: webDir, stdio: "inherit", env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" } });
  if (result.status !== 0) {
    console.error("transcend: building the web app failed (see above)");
    return result.status ?? 1;
  }
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exit(ensureWebBuild());
}
