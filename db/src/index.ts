// The db package's entry point: client factory, seeding and versioning services.
// Tables are also exported as `schema` here and on their own from "@transcend/db/schema",
// which imports no driver.
export {
  createDatabase,
  notify,
  queryRows,
  type CreateDatabaseOptions,
  type Database,
  type DatabaseKind,
  type Db,
  type Schema,
} from "./client";
export { UserError, isUserError } from "./errors";
export { seedPresets, type Preset, type SeedOutcome, type SeedReport } from "./seed";
export * from "./versioning";
export * as schema from "./schema";
