// Real databases for integration tests (CONVENTIONS.md item 10: no mocks).
//
//   import { describeEachDatabase } from "@transcend/db/testing";
//   describeEachDatabase("queue", (getDb) => {
//     it("claims the oldest run", async () => { const db = getDb(); … });
//   });
//
// runs the block once against a fresh, migrated PGlite, and once more against a fresh
// PostgreSQL database when TEST_DATABASE_URL is set. Each call gets its own database,
// shared by the tests inside it: give rows unique slugs/ids rather than assuming an
// empty table.
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import postgres from "postgres";
import { afterAll, beforeAll, describe } from "vitest";
import { createDatabase, defaultMigrationsFolder, wrapPglite, type Database, type DatabaseKind, type Db } from "./client";
import { dbEnv } from "./env";

export type TestDatabaseTarget = {
  kind: DatabaseKind;
  /** Opens a fresh, migrated, empty database; its close() also discards it. */
  open(): Promise<Database>;
};

/** Where integration tests run: PGlite always, PostgreSQL when TEST_DATABASE_URL is set. */
export function testDatabaseTargets(): TestDatabaseTarget[] {
  const targets: TestDatabaseTarget[] = [{ kind: "pglite", open: openTestPglite }];
  const serverUrl = dbEnv().testDatabaseUrl;
  if (serverUrl !== undefined) targets.push({ kind: "postgres", open: () => openTestPostgres(serverUrl) });
  return targets;
}

/** Opens one fresh database per target. Close each when done. */
export async function openTestDatabases(): Promise<Database[]> {
  const opened: Database[] = [];
  try {
    for (const target of testDatabaseTargets()) opened.push(await target.open());
  } catch (error) {
    await Promise.all(opened.map((database) => database.close()));
    throw error;
  }
  return opened;
}

/**
 * Declares `name` once per test database; `getDb` returns that database inside tests
 * and hooks (it is opened in a beforeAll and closed, and discarded, in an afterAll).
 */
export function describeEachDatabase(
  name: string,
  body: (getDb: () => Db, context: { kind: DatabaseKind; getDatabase: () => Database }) => void,
): void {
  for (const target of testDatabaseTargets()) {
    describe(`${name} [${target.kind}]`, () => {
      let database: Database | undefined;
      const getDatabase = () => {
        if (database === undefined) throw new Error("describeEachDatabase: the database is opened in beforeAll; use getDb() inside tests or hooks");
        return database;
      };
      beforeAll(async () => {
        database = await target.open();
      });
      afterAll(async () => {
        await database?.close();
      });
      body(() => getDatabase().db, { kind: target.kind, getDatabase });
    });
  }
}

// ---------------------------------------------------------------- PGlite

// Starting PGlite and applying every migration takes seconds (tens under load), so a
// migrated data directory is built once, dumped to the OS temp dir under a key of the
// migrations and PGlite version, and each test database is loaded from that dump.
async function openTestPglite(): Promise<Database> {
  const migrationsFolder = defaultMigrationsFolder();
  const templatePath = path.join(os.tmpdir(), `transcend-pglite-template-${templateKey(migrationsFolder)}.tar.gz`);
  if (!existsSync(templatePath)) {
    const fresh = await PGlite.create();
    const database = await wrapPglite(fresh, migrationsFolder);
    const dump = await fresh.dumpDataDir("gzip");
    await database.close();
    // Written aside and renamed, so a test file running in parallel never loads half a file.
    const partial = `${templatePath}.${process.pid}.${randomBytes(4).toString("hex")}`;
    writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
    renameSync(partial, templatePath);
  }
  const client = await PGlite.create({ loadDataDir: new Blob([readFileSync(templatePath)]) });
  return wrapPglite(client, migrationsFolder);
}

function templateKey(migrationsFolder: string): string {
  const hash = createHash("sha256");
  // A PGlite upgrade may change the on-disk format.
  hash.update(pgliteVersion());
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const file = path.join(dir, name);
      if (statSync(file).isDirectory()) walk(file);
      else hash.update(name).update(readFileSync(file));
    }
  };
  walk(migrationsFolder);
  return hash.digest("hex").slice(0, 16);
}

function pgliteVersion(): string {
  try {
    const entry = createRequire(import.meta.url).resolve("@electric-sql/pglite");
    const pkg = path.join(path.dirname(entry), "..", "package.json");
    return String((JSON.parse(readFileSync(pkg, "utf8")) as { version?: unknown }).version);
  } catch {
    return "unknown";
  }
}

// ---------------------------------------------------------------- PostgreSQL

/** Creates a database t_<random> on the test server, migrated; dropped on close. */
async function openTestPostgres(serverUrl: string): Promise<Database> {
  const name = `t_${randomBytes(6).toString("hex")}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => undefined, connect_timeout: 10 });
  try {
    await admin.unsafe(`create database ${name}`);
  } catch (error) {
    await admin.end({ timeout: 5 });
    throw error;
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  let database: Database;
  try {
    database = await createDatabase({ url: url.toString(), maxConnections: 4 });
  } catch (error) {
    await admin.unsafe(`drop database if exists ${name} with (force)`).catch(() => undefined);
    await admin.end({ timeout: 5 });
    throw error;
  }
  return {
    ...database,
    async close() {
      try {
        await database.close();
        await admin.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await admin.end({ timeout: 5 });
      }
    },
  };
}
