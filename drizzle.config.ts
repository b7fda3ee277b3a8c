import { defineConfig } from "drizzle-kit";

// Migrations are generated from the schema and committed (`npm run db:generate`);
// they are applied by the client at start (`createDatabase`), never pushed.
// DRIZZLE_MIGRATIONS_OUT lets scripts/check-migrations.mjs generate into a scratch
// copy so that checking never touches the committed folder.
export default defineConfig({
  dialect: "postgresql",
  schema: "./db/src/schema/index.ts",
  out: process.env.DRIZZLE_MIGRATIONS_OUT ?? "./db/migrations",
  casing: "snake_case",
  strict: true,
});
