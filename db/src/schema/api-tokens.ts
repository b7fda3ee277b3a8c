import { index, pgTable, text, uuid } from "drizzle-orm/pg-core";
import { createdAt, timestamptz } from "./columns";
import { users } from "./users";

// Personal access tokens for the HTTP API. Only a hash is stored: a leaked database
// must not hand out working tokens. `prefix` is the token's first characters, kept so
// the account page can tell tokens apart.
export const apiTokens = pgTable(
  "api_tokens",
  {
    id: uuid().primaryKey().defaultRandom(),
    userId: text()
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text().notNull(),
    tokenHash: text().notNull().unique("api_tokens_token_hash_key"),
    prefix: text().notNull(),
    createdAt: createdAt(),
    lastUsedAt: timestamptz(),
    expiresAt: timestamptz(),
    revokedAt: timestamptz(),
  },
  (t) => [index("api_tokens_user_id_idx").on(t.userId)],
);
