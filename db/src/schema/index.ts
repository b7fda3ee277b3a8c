// Every table, enum and row-level constant of the database. Importing this module
// never opens a connection; the client lives in ../client.ts.
export * from "./users";
export * from "./api-tokens";
export * from "./runners";
export * from "./versioned";
export * from "./task-variants";
export * from "./recipes";
export * from "./runs";
export * from "./metrics";
export * from "./evaluations";
export * from "./artifacts";
