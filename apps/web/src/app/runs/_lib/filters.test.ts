import { describe, expect, it } from "vitest";
import { NO_FILTERS, hasFilters, parseRunFilters, runFiltersQuery } from "./filters";

const VARIANT = "string-ops-depth-partial";

describe("run filters in the URL", () => {
  it("round-trips every filter", () => {
    const filters = { mine: true, state: "grpo" as const, variantSlug: VARIANT };
    const query = runFiltersQuery(filters);
    expect(query).toBe(`?mine=1&state=grpo&variant=${VARIANT}`);
    expect(parseRunFilters(new URLSearchParams(query))).toEqual(filters);
  });

  it("drops unknown states, malformed slugs and other values of mine", () => {
    expect(parseRunFilters(new URLSearchParams("state=running&variant=Bad--Slug%20or%201=1&mine=true"))).toEqual(NO_FILTERS);
  });

  it("writes no query string without filters", () => {
    expect(runFiltersQuery(NO_FILTERS)).toBe("");
    expect(hasFilters(NO_FILTERS)).toBe(false);
    expect(hasFilters({ ...NO_FILTERS, state: "queued" })).toBe(true);
  });
});
