import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import { sql, type SQL } from "drizzle-orm";
import postgres from "postgres";
import { DEFAULT_DATA_DIR, dbEnv, isDatabaseUrlFromEnv, parsePostgresUrl, redactUrl } from "./env";
import { UserError } from "./errors";
import * as schema from "./schema";

export type Schema = typeof schema;

/** A drizzle database over either driver. Transactions (`tx`) are assignable to it. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export type DatabaseKind = "pglite" | "postgres";

export type Database = {
  db: Db;
  kind: DatabaseKind;
  /**
   * Subscribes to a LISTEN/NOTIFY channel (cross-instance signals, DESIGN.md §2.3);
   * resolves to a function that unsubscribes. Send with `select pg_notify(…)`.
   */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
};

export type CreateDatabaseOptions = {
  /** PostgreSQL URL; defaults to DATABASE_URL. When neither is set, PGlite is used. */
  url?: string;
  /** PGlite data directory (default ./.data, relative to the working directory). */
  dataDir?: string;
  /** Folder of the generated migrations; defaults to db/migrations of this package. */
  migrationsFolder?: string;
  /** Size of the PostgreSQL connection pool. */
  maxConnections?: number;
};

const CASING = "snake_case" as const;

// A path, not `new URL("../migrations", import.meta.url)`: bundlers (Next's Turbopack) read
// that form as an asset to bundle and fail on a directory. Only server.ts (unbundled)
// applies migrations; bundled route code merely carries this function.
export const defaultMigrationsFolder = () => path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "migrations");

/**
 * Opens the database — PostgreSQL when a URL is given or DATABASE_URL is set, else
 * PGlite in a data directory — and applies any pending migrations. Configuration and
 * connection problems are thrown as UserError with a one-line message.
 */
export async function createDatabase(opts: CreateDatabaseOptions = {}): Promise<Database> {
  const migrationsFolder = opts.migrationsFolder ?? defaultMigrationsFolder();
  // An empty url counts as none, so callers can pass an unset variable straight through.
  const url = opts.url?.trim();
  if (url !== undefined && url !== "") {
    const source = isDatabaseUrlFromEnv(url) ? "DATABASE_URL" : "the url option";
    return openPostgres(parsePostgresUrl(url, source), source, { ...opts, migrationsFolder });
  }
  const { databaseUrl } = dbEnv();
  if (databaseUrl !== undefined) return openPostgres(databaseUrl, "DATABASE_URL", { ...opts, migrationsFolder });
  return openPgliteDir(path.resolve(opts.dataDir ?? DEFAULT_DATA_DIR), migrationsFolder);
}

// ---------------------------------------------------------------- PGlite

async function openPgliteDir(dataDir: string, migrationsFolder: string): Promise<Database> {
  mkdirSync(dataDir, { recursive: true });
  // PGlite runs PostgreSQL inside this process with no locking of its own: a second
  // process on the same directory would corrupt it. Several servers need PostgreSQL.
  const releaseLock = acquireDirLock(dataDir);
  let client: PGlite;
  try {
    client = await PGlite.create({ dataDir });
  } catch (error) {
    releaseLock();
    throw new UserError(
      `Cannot open the embedded database in ${dataDir} (${describeError(error)}). Move that directory away to start afresh, or set DATABASE_URL to use PostgreSQL.`,
    );
  }
  try {
    return await wrapPglite(client, migrationsFolder, releaseLock);
  } catch (error) {
    await client.close().catch(() => undefined);
    releaseLock();
    throw error;
  }
}

/**
 * Wraps an open PGlite (in memory, loaded from a dump, or on disk), applies pending
 * migrations, and hands ownership of `client` to the returned Database.
 */
export async function wrapPglite(
  client: PGlite,
  migrationsFolder: string = defaultMigrationsFolder(),
  onClose: () => void = () => undefined,
): Promise<Database> {
  const db = drizzlePglite({ client, schema, casing: CASING });
  await runMigrations(() => migratePglite(db, { migrationsFolder }), migrationsFolder);
  let closed = false;
  return {
    db,
    kind: "pglite",
    async listen(channel, onPayload) {
      const unsubscribe = await client.listen(channel, onPayload);
      return async () => unsubscribe();
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await client.close();
      } finally {
        onClose();
      }
    },
  };
}

const LOCK_FILE = "transcend.lock";

// Directories this process has open: the lock file holds our own pid for them, which
// alone would not stop a second open from within the same process.
const openDirs = new Set<string>();

function acquireDirLock(dataDir: string): () => void {
  if (openDirs.has(dataDir)) {
    throw new UserError(`The embedded database in ${dataDir} is already open in this process; share that Database.`);
  }
  const release = acquireLockFile(dataDir);
  openDirs.add(dataDir);
  return () => {
    openDirs.delete(dataDir);
    release();
  };
}

function acquireLockFile(dataDir: string): () => void {
  const lockPath = path.join(dataDir, LOCK_FILE);
  for (let tries = 0; tries < 2; tries++) {
    try {
      const fd = openSync(lockPath, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(lockPath, { force: true });
    } catch (error) {
      if (!isErrno(error, "EEXIST")) throw error;
      const holder = Number.parseInt(readFileSync(lockPath, "utf8"), 10);
      if (Number.isInteger(holder) && holder !== process.pid && processIsAlive(holder)) {
        throw new UserError(
          `The embedded database in ${dataDir} is in use by process ${holder}. Stop that process, or set DATABASE_URL to use PostgreSQL, which several servers can share.`,
        );
      }
      // Left behind by a process that died (or by this one): take it over.
      rmSync(lockPath, { force: true });
    }
  }
  throw new UserError(`Cannot lock the embedded database in ${dataDir}: remove ${lockPath} and try again.`);
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return isErrno(error, "EPERM");
  }
}

// ---------------------------------------------------------------- PostgreSQL

// Arbitrary, fixed key of the advisory lock that serialises migrations when several
// server instances start at once against one PostgreSQL.
const MIGRATION_LOCK_KEY = 7_420_271_015;

/** Oldest PostgreSQL whose features the migrations use (gen_random_uuid in core). */
const MIN_SERVER_VERSION = 130000;

async function openPostgres(
  url: string,
  source: string,
  opts: { migrationsFolder: string; maxConnections?: number },
): Promise<Database> {
  const where = redactUrl(url);
  // Migrations run on a dedicated single connection: the advisory lock is held by a
  // session, so lock, migrate and unlock must all use the same one.
  const admin = postgres(url, { max: 1, onnotice: () => undefined, connect_timeout: 10 });
  try {
    let version: number;
    try {
      const rows = await admin<{ server_version_num: string }[]>`show server_version_num`;
      version = Number(rows[0]?.server_version_num);
    } catch (error) {
      throw new UserError(
        `Cannot connect to PostgreSQL at ${where} (${describeError(error)}). Check that the server is running and ${source} is right${
          source === "DATABASE_URL" ? ", or unset DATABASE_URL to use the embedded PGlite database" : ""
        }.`,
      );
    }
    if (!(version >= MIN_SERVER_VERSION)) {
      throw new UserError(`PostgreSQL at ${where} is version ${version}; Transcend needs 13 or newer.`);
    }
    await admin`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    try {
      const adminDb = drizzlePostgres({ client: admin, casing: CASING });
      await runMigrations(() => migratePostgres(adminDb, { migrationsFolder: opts.migrationsFolder }), opts.migrationsFolder);
    } finally {
      await admin`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.catch(() => undefined);
    }
  } finally {
    await admin.end({ timeout: 5 });
  }

  const client = postgres(url, {
    max: opts.maxConnections ?? 10,
    onnotice: () => undefined,
    connect_timeout: 10,
  });
  const db = drizzlePostgres({ client, schema, casing: CASING });
  let closed = false;
  return {
    db,
    kind: "postgres",
    async listen(channel, onPayload) {
      const { unlisten } = await client.listen(channel, (payload) => onPayload(payload));
      return unlisten;
    },
    async close() {
      if (closed) return;
      closed = true;
      await client.end({ timeout: 5 });
    },
  };
}

// ---------------------------------------------------------------- shared

async function runMigrations(apply: () => Promise<void>, migrationsFolder: string): Promise<void> {
  if (!existsSync(path.join(migrationsFolder, "meta", "_journal.json"))) {
    throw new UserError(
      `No database migrations found in ${migrationsFolder}. Run from a complete checkout, or pass migrationsFolder.`,
    );
  }
  await apply();
}

/**
 * Rows of a raw SQL query on either driver (PGlite returns `{ rows }`, postgres.js
 * an array). Prefer the query builder; this is for the few statements it cannot say.
 */
export async function queryRows<Row extends Record<string, unknown>>(db: Db, query: SQL): Promise<Row[]> {
  const result: unknown = await db.execute(query);
  if (Array.isArray(result)) return result as Row[];
  if (typeof result === "object" && result !== null && "rows" in result && Array.isArray(result.rows)) {
    return result.rows as Row[];
  }
  throw new Error("queryRows: unexpected result shape from the database driver");
}

/** Sends a NOTIFY on either driver; inside a transaction it is delivered at commit. */
export async function notify(db: Db, channel: string, payload: string): Promise<void> {
  await db.execute(sql`select pg_notify(${channel}, ${payload})`);
}

function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return describeError(error.errors[0]);
  if (error instanceof Error) {
    const code = "code" in error && typeof error.code === "string" ? error.code : undefined;
    const message = error.message.split("\n")[0] ?? "";
    if (message !== "") return message;
    if (code !== undefined) return code;
    return error.name;
  }
  return String(error);
}

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && "code" in error && error.code === code;
}
