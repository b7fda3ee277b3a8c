import { describe, expect, it } from "vitest";
import { NO_FILTERS, hasFilters, parseRunFilters, runFiltersQuery } from "./filters";

const VARIANT = "0b7e3c1a-5d2f-4e8a-9c6b-1f2e3d4c5b6a";

describe("run filters in the URL", () => {
  it("round-trips every filter", () => {
    const filters = { mine: true, state: "grpo" as const, variantId: VARIANT };
    const query = runFiltersQuery(filters);
    expect(query).toBe(`?mine=1&state=grpo&variant=${VARIANT}`);
    expect(parseRunFilters(new URLSearchParams(query))).toEqual(filters);
  });

  it("drops unknown states, malformed ids and other values of mine", () => {
    expect(parseRunFilters(new URLSearchParams("state=running&variant=x'%20or%201=1&mine=true"))).toEqual(NO_FILTERS);
  });

  it("writes no query string without filters", () => {
    expect(runFiltersQuery(NO_FILTERS)).toBe("");
    expect(hasFilters(NO_FILTERS)).toBe(false);
    expect(hasFilters({ ...NO_FILTERS, state: "queued" })).toBe(true);
  });
});
