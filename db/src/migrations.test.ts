import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { createDatabase, queryRows, type Database, type Db } from "./client";
import { dbEnv } from "./env";
import { testDatabaseTargets } from "./testing";

type Column = { table_name: string; column_name: string; data_type: string; udt_name: string; is_nullable: string; column_default: string | null };

async function describeSchema(db: Db) {
  const columns = await queryRows<Column>(
    db,
    sql`select table_name, column_name, data_type, udt_name, is_nullable, column_default
        from information_schema.columns where table_schema = 'public'
        order by table_name, column_name`,
  );
  const indexes = await queryRows<{ indexname: string; indexdef: string }>(
    db,
    sql`select indexname, indexdef from pg_indexes where schemaname = 'public' order by indexname`,
  );
  const constraints = await queryRows<{ conname: string; contype: string }>(
    db,
    sql`select c.conname, c.contype::text as contype from pg_constraint c
        join pg_namespace n on n.oid = c.connamespace
        -- PostgreSQL 18 (PGlite) also lists NOT NULL as constraints; columns cover those.
        where n.nspname = 'public' and c.contype <> 'n' order by c.conname`,
  );
  const enums = await queryRows<{ typname: string; labels: string }>(
    db,
    sql`select t.typname, string_agg(e.enumlabel, ',' order by e.enumsortorder) as labels
        from pg_type t join pg_enum e on e.enumtypid = t.oid group by t.typname order by t.typname`,
  );
  return { columns, indexes, constraints, enums };
}

const scratchDirs: string[] = [];
const scratch = () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "transcend-db-test-"));
  scratchDirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
});

describe("migrations", () => {
  let pgliteSchema: Awaited<ReturnType<typeof describeSchema>> | undefined;

  it("apply on an empty PGlite data directory, and again as a no-op on restart", async () => {
    const dataDir = path.join(scratch(), "data");
    const first = await createDatabase({ dataDir });
    expect(first.kind).toBe("pglite");
    pgliteSchema = await describeSchema(first.db);
    await first.close();

    const second = await createDatabase({ dataDir });
    expect(await describeSchema(second.db)).toEqual(pgliteSchema);
    const applied = await queryRows<{ n: number }>(second.db, sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
    expect(applied[0]?.n).toBeGreaterThan(0);
    await second.close();

    const tables = new Set(pgliteSchema.columns.map((c) => c.table_name));
    for (const table of ["users", "sessions", "accounts", "verifications", "api_tokens", "runners", "runner_registration_tokens", "task_variants", "recipes", "runs", "run_attempts", "run_state_transitions", "metrics", "evaluation_results", "artifacts"]) {
      expect(tables).toContain(table);
    }
  });

  it("refuses a second open of one PGlite directory with a clear error", async () => {
    const dataDir = path.join(scratch(), "data");
    const first = await createDatabase({ dataDir });
    try {
      await expect(createDatabase({ dataDir })).rejects.toMatchObject({ name: "UserError", message: expect.stringMatching(/already open/) });
    } finally {
      await first.close();
    }
  });

  const serverUrl = dbEnv().testDatabaseUrl;
  describe.skipIf(serverUrl === undefined)("on PostgreSQL (TEST_DATABASE_URL)", () => {
    const postgresTarget = testDatabaseTargets().find((t) => t.kind === "postgres");
    const opened: Database[] = [];
    afterAll(async () => {
      for (const database of opened) await database.close();
    });

    it("apply on an empty PostgreSQL database and match PGlite's tables, columns, indexes and constraints", async () => {
      if (postgresTarget === undefined || pgliteSchema === undefined) throw new Error("needs the PGlite test above");
      const database = await postgresTarget.open();
      opened.push(database);
      expect(database.kind).toBe("postgres");
      expect(await describeSchema(database.db)).toEqual(pgliteSchema);
    });

    it("are applied once when several servers start at the same time", async () => {
      if (serverUrl === undefined) throw new Error("unreachable");
      const admin = postgres(serverUrl, { max: 1, onnotice: () => undefined });
      const name = `t_race_${Date.now()}`;
      await admin.unsafe(`create database ${name}`);
      try {
        const url = new URL(serverUrl);
        url.pathname = `/${name}`;
        const racers = await Promise.all([1, 2, 3].map(() => createDatabase({ url: url.toString(), maxConnections: 1 })));
        const first = racers[0];
        if (first === undefined) throw new Error("unreachable");
        const applied = await queryRows<{ n: number }>(first.db, sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
        const journal = await queryRows<{ n: number }>(first.db, sql`select count(distinct hash)::int as n from drizzle.__drizzle_migrations`);
        expect(applied[0]?.n).toBe(journal[0]?.n);
        await Promise.all(racers.map((r) => r.close()));
      } finally {
        await admin.unsafe(`drop database if exists ${name} with (force)`);
        await admin.end();
      }
    });
  });
});
