import { doublePrecision, integer, pgTable, primaryKey, text, uuid } from "drizzle-orm/pg-core";
import { runs } from "./runs";

// Self-reported training curves (loss, mean reward, KL, …), one value per
// (run, attempt, phase, step, name). The key makes a re-sent progress event a no-op.
export const metrics = pgTable(
  "metrics",
  {
    runId: uuid()
      .notNull()
      .references(() => runs.id, { onDelete: "cascade" }),
    attempt: integer().notNull(),
    phase: text().notNull(),
    step: integer().notNull(),
    name: text().notNull(),
    value: doublePrecision().notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.attempt, t.phase, t.step, t.name] })],
);
