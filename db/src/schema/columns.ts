import { timestamp } from "drizzle-orm/pg-core";

// Every instant is stored with its time zone so PostgreSQL and PGlite agree whatever
// the server's TimeZone setting is.
export const timestamptz = () => timestamp({ withTimezone: true, mode: "date" });

export const createdAt = () => timestamptz().notNull().defaultNow();

// `$onUpdate` keeps updated_at honest for writes made through drizzle.
export const updatedAt = () =>
  timestamptz()
    .notNull()
    .defaultNow()
    .$onUpdate(() => new Date());
