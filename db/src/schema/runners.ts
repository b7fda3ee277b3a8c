import { index, jsonb, pgTable, text, uuid } from "drizzle-orm/pg-core";
import { createdAt, timestamptz } from "./columns";
import { users } from "./users";

// A runner daemon somebody hosts. The credential it presents at the WebSocket upgrade
// is stored as a hash only. Revocation is a timestamp, not a delete, so the runs it
// executed keep their provenance.
export const runners = pgTable(
  "runners",
  {
    id: uuid().primaryKey().defaultRandom(),
    ownerId: text()
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text().notNull(),
    credentialHash: text().notNull().unique("runners_credential_hash_key"),
    // The hello message's capabilities (backend, device, cores, memory, measured
    // GFLOP/s); its shape belongs to packages/protocol.
    capabilities: jsonb().$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
    lastSeenAt: timestamptz(),
    revokedAt: timestamptz(),
  },
  (t) => [index("runners_owner_id_idx").on(t.ownerId)],
);

// One-time tokens a signed-in user creates to register a runner: shown once, stored
// hashed, expiring, and marked used in the same statement that creates the runner.
export const runnerRegistrationTokens = pgTable(
  "runner_registration_tokens",
  {
    id: uuid().primaryKey().defaultRandom(),
    ownerId: text()
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    tokenHash: text().notNull().unique("runner_registration_tokens_token_hash_key"),
    createdAt: createdAt(),
    expiresAt: timestamptz().notNull(),
    usedAt: timestamptz(),
    runnerId: uuid().references(() => runners.id, { onDelete: "set null" }),
  },
  (t) => [index("runner_registration_tokens_owner_id_idx").on(t.ownerId)],
);
