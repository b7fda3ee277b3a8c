#!/usr/bin/env node
// `npm run db:check`: fails when db/src/schema has changes that no committed migration
// covers. It runs `drizzle-kit generate` into a scratch copy of db/migrations (through
// DRIZZLE_MIGRATIONS_OUT, read by drizzle.config.ts), so the committed folder is never
// touched, and compares the copy with the original.
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const committed = path.join(root, "db", "migrations");
const scratch = mkdtempSync(path.join(os.tmpdir(), "transcend-migrations-"));
const copy = path.join(scratch, "migrations");

/** Relative path → contents of every file under `dir`. */
function snapshot(dir) {
  const files = new Map();
  const walk = (sub) => {
    for (const name of readdirSync(path.join(dir, sub))) {
      const rel = path.join(sub, name);
      if (statSync(path.join(dir, rel)).isDirectory()) walk(rel);
      else files.set(rel, readFileSync(path.join(dir, rel), "utf8"));
    }
  };
  walk("");
  return files;
}

let status = 0;
try {
  cpSync(committed, copy, { recursive: true });
  const before = snapshot(copy);
  // bin.cjs is not in drizzle-kit's "exports", so find it next to its package entry.
  const drizzleKitEntry = createRequire(path.join(root, "package.json")).resolve("drizzle-kit");
  const drizzleKit = path.join(path.dirname(drizzleKitEntry), "bin.cjs");
  const result = spawnSync(process.execPath, [drizzleKit, "generate", "--config", "drizzle.config.ts"], {
    cwd: root,
    // drizzle-kit prefixes `out` with "./", so it must be relative to the root.
    env: { ...process.env, DRIZZLE_MIGRATIONS_OUT: path.relative(root, copy) },
    // No terminal: a change that needs an interactive answer (a rename?) fails below
    // instead of waiting for one.
    stdio: ["ignore", "pipe", "pipe"],
    encoding: "utf8",
    timeout: 120_000,
  });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
  // drizzle-kit exits 0 even when it fails, so success is recognised by what it says.
  const ran = /No schema changes|Your SQL migration file/.test(output);
  if (result.status !== 0 || !ran) {
    process.stderr.write(`${output}\n`);
    console.error(
      "db:check: drizzle-kit generate failed (output above). If it asked a question, run `npm run db:generate` in a terminal, answer it, and commit db/migrations.",
    );
    status = 1;
  } else {
    const after = snapshot(copy);
    const changed = [...after.keys()].filter((file) => before.get(file) !== after.get(file));
    if (changed.length > 0) {
      console.error(
        `db:check: db/src/schema has changes without a migration (drizzle-kit would write ${changed.join(", ")}). Run \`npm run db:generate\` and commit db/migrations.`,
      );
      status = 1;
    } else {
      console.log("db:check: every schema change has its committed migration.");
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
process.exit(status);
