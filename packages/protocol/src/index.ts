// The one package that server, runner and forms share: every schema that crosses a
// process boundary lives here, and every TypeScript type is inferred from a schema.
export * from "./variant";
export * from "./recipe";
export * from "./messages";
export * from "./model-size";
export * from "./run-states";
