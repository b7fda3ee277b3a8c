// The runs list's filters live in the URL (?mine=1&state=grpo&variant=<id>), so a filtered
// list can be bookmarked, shared and reloaded. Anything malformed is dropped, not trusted.
import { RUN_STATES, type RunStateName } from "./run-view";

export interface RunFilters {
  mine: boolean;
  state: RunStateName | null;
  variantId: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const NO_FILTERS: RunFilters = { mine: false, state: null, variantId: null };

/** Reads filters from a query string (URLSearchParams or Next's ReadonlyURLSearchParams). */
export function parseRunFilters(params: { get(name: string): string | null }): RunFilters {
  const state = params.get("state");
  const variant = params.get("variant");
  return {
    mine: params.get("mine") === "1",
    state: state !== null && (RUN_STATES as readonly string[]).includes(state) ? (state as RunStateName) : null,
    variantId: variant !== null && UUID.test(variant) ? variant.toLowerCase() : null,
  };
}

/** The query string for `filters`, "" when none is set; keys in a fixed order for stable URLs. */
export function runFiltersQuery(filters: RunFilters): string {
  const params = new URLSearchParams();
  if (filters.mine) params.set("mine", "1");
  if (filters.state) params.set("state", filters.state);
  if (filters.variantId) params.set("variant", filters.variantId);
  const query = params.toString();
  return query === "" ? "" : `?${query}`;
}

export function hasFilters(filters: RunFilters): boolean {
  return filters.mine || filters.state !== null || filters.variantId !== null;
}
