// Whole-database views for hardening tests: row counts of every table (did a refused
// request write anything?) and every text/json value (did a secret land in a column?).
import { getTableName, is, sql } from "drizzle-orm";
import { PgTable } from "drizzle-orm/pg-core";
import type { Db } from "@transcend/db";
import * as schema from "@transcend/db/schema";

/** Every table of the schema, by its SQL name. */
export function schemaTables(): string[] {
  const names = new Set<string>();
  for (const value of Object.values(schema)) if (is(value, PgTable)) names.add(getTableName(value));
  return [...names].sort();
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** PGlite answers `{rows}`, postgres-js an array of rows. */
function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return (result as { rows: T[] }).rows;
}

/** `{table: rows}` for every table, in one statement so the counts are one snapshot. */
export async function rowCounts(db: Db): Promise<Record<string, number>> {
  const tables = schemaTables();
  const select = tables.map((table) => `(select count(*) from ${quote(table)})::int as ${quote(table)}`).join(", ");
  const result = await db.execute(sql.raw(`select ${select}`));
  const row = rowsOf<Record<string, number>>(result)[0] ?? {};
  return Object.fromEntries(tables.map((table) => [table, Number(row[table] ?? 0)]));
}

/**
 * Every value of every text-like column (text, varchar, json, jsonb, bytea as hex), as
 * `table.column: value` lines: what a database dump would show an attacker who got one.
 */
export async function dumpTextColumns(db: Db): Promise<string[]> {
  const columnsResult = await db.execute(sql`
    select table_name, column_name, data_type from information_schema.columns
    where table_schema = current_schema()
      and data_type in ('text', 'character varying', 'character', 'json', 'jsonb', 'bytea', 'ARRAY', 'USER-DEFINED')
    order by table_name, column_name`);
  const columns = rowsOf<{ table_name: string; column_name: string }>(columnsResult);
  const lines: string[] = [];
  for (const { table_name: table, column_name: column } of columns) {
    if (table.startsWith("__drizzle")) continue;
    const values = await db.execute(sql.raw(`select ${quote(column)}::text as v from ${quote(table)} where ${quote(column)} is not null`));
    for (const row of rowsOf<{ v: string }>(values)) lines.push(`${table}.${column}: ${row.v}`);
  }
  return lines;
}
