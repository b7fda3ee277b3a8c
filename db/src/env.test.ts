import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { createDatabase } from "./client";
import { parseDbEnv } from "./env";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "..", "..");

describe("database configuration", () => {
  it("treats an unset or empty DATABASE_URL as 'use PGlite'", () => {
    expect(parseDbEnv({})).toEqual({ databaseUrl: undefined, testDatabaseUrl: undefined });
    expect(parseDbEnv({ DATABASE_URL: "  " }).databaseUrl).toBeUndefined();
    expect(parseDbEnv({ DATABASE_URL: "postgresql://u:p@db.example:5432/transcend" }).databaseUrl).toBe(
      "postgresql://u:p@db.example:5432/transcend",
    );
  });

  it.each([
    ["not a url", /DATABASE_URL is not a valid URL/],
    ["mysql://u:p@host/db", /DATABASE_URL is not a PostgreSQL URL: it starts with mysql:/],
    ["postgres://host:99999/db", /DATABASE_URL is not a valid URL/],
    ["postgres:///db", /DATABASE_URL names no host/],
  ])("rejects DATABASE_URL=%s with a UserError saying what to do", (value, message) => {
    let error: unknown;
    try {
      parseDbEnv({ DATABASE_URL: value });
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ name: "UserError", message: expect.stringMatching(message) });
    expect((error as Error).message).toMatch(/unset it to use the embedded PGlite database/);
    expect((error as Error).message).not.toContain("\n");
  });

  it("never prints the password of a URL it complains about", () => {
    for (const value of ["postgres://user:s3cret@/db", "mysql://user:s3cret@host/db", "postgres://user:s3cret@host:99999/db"]) {
      expect(() => parseDbEnv({ DATABASE_URL: value })).toThrow(/DATABASE_URL/);
      expect(() => parseDbEnv({ DATABASE_URL: value })).not.toThrow(/s3cret/);
    }
  });

  it("validates TEST_DATABASE_URL the same way", () => {
    expect(() => parseDbEnv({ TEST_DATABASE_URL: "localhost:5432" })).toThrow(/TEST_DATABASE_URL/);
  });

  it("gives a UserError for a malformed or unreachable url option", async () => {
    await expect(createDatabase({ url: "nonsense" })).rejects.toMatchObject({
      name: "UserError",
      message: expect.stringMatching(/^The url option is not a valid URL/),
    });
    await expect(createDatabase({ url: "postgres://nobody:pw@127.0.0.1:1/transcend" })).rejects.toMatchObject({
      name: "UserError",
      message: expect.stringMatching(/^Cannot connect to PostgreSQL at postgres:\/\/nobody:\*\*\*@127\.0\.0\.1:1\/transcend \(.*ECONNREFUSED.*\)/),
    });
  });

  it.each([
    ["a malformed", "postgres//oops", /^DATABASE_URL is not a valid URL/],
    ["an unreachable", "postgres://nobody@127.0.0.1:1/transcend", /^Cannot connect to PostgreSQL at .* or unset DATABASE_URL/],
  ])("db:migrate with %s DATABASE_URL prints one clear line and exits 1", (_what, value, message) => {
    const tsx = path.join(repoRoot, "node_modules", ".bin", "tsx");
    const result = spawnSync(tsx, [path.join(here, "migrate-cli.ts")], {
      env: { ...process.env, DATABASE_URL: value },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(result.status).toBe(1);
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
  });
});

describe("createDatabase url option", () => {
  it("names DATABASE_URL when the caller passed that variable through", async () => {
    const saved = process.env.DATABASE_URL;
    process.env.DATABASE_URL = "postgres//oops";
    try {
      await expect(createDatabase({ url: process.env.DATABASE_URL })).rejects.toMatchObject({
        name: "UserError",
        message: expect.stringMatching(/^DATABASE_URL is not a valid URL.*unset it/),
      });
    } finally {
      if (saved === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = saved;
    }
  });
});
