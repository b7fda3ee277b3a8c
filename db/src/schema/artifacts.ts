import { sql } from "drizzle-orm";
import { bigint, check, index, integer, pgTable, primaryKey, text, uuid } from "drizzle-orm/pg-core";
import { createdAt } from "./columns";
import { runs } from "./runs";

// Content-addressed blobs (checkpoints, origin checkpoints): the sha256 is the key, so
// one origin checkpoint reused by several runs is stored once.
export const artifacts = pgTable(
  "artifacts",
  {
    sha256: text().primaryKey(),
    sizeBytes: bigint({ mode: "number" }).notNull(),
    kind: text().notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    check("artifacts_sha256_hex", sql`${t.sha256} ~ '^[0-9a-f]{64}$'`),
    check("artifacts_size_nonnegative", sql`${t.sizeBytes} >= 0`),
  ],
);

// Which artifacts an attempt of a run produced, under a role name ("origin", "grpo").
export const runArtifacts = pgTable(
  "run_artifacts",
  {
    runId: uuid()
      .notNull()
      .references(() => runs.id, { onDelete: "cascade" }),
    attempt: integer().notNull(),
    name: text().notNull(),
    sha256: text()
      .notNull()
      .references(() => artifacts.sha256),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.attempt, t.name] }), index("run_artifacts_sha256_idx").on(t.sha256)],
);
