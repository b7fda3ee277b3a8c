// `npm run db:migrate`: applies pending migrations to the database the server would
// use (DATABASE_URL, else PGlite in ./.data) and exits. The server does the same at
// start; this is for deploying a schema change ahead of the servers.
import { createDatabase } from "./client";
import { isUserError } from "./errors";

try {
  const database = await createDatabase();
  await database.close();
  console.log(`Database is up to date (${database.kind}).`);
} catch (error) {
  if (!isUserError(error)) throw error;
  console.error(error.message);
  process.exitCode = 1;
}
