// @transcend/tasks: seeded, verifiable task families, their tokenizer, metrics and presets.
export * from "./types";
export * from "./rng";
export * from "./tokenizer";
export * from "./family";
export * from "./families";
export * from "./resolve";
export * from "./metrics";
export * from "./presets";
