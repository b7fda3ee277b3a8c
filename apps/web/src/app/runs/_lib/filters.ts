// The runs list's filters live in the URL (?mine=1&state=grpo&variant=<slug>), so a filtered
// list can be bookmarked, shared and reloaded. Anything malformed is dropped, not trusted.
import { RUN_STATES, type RunStateName } from "./run-view";

export interface RunFilters {
  mine: boolean;
  state: RunStateName | null;
  /** A task variant's slug: the filter covers every version of it. */
  variantSlug: string | null;
}

const SLUG = /^[a-z0-9]+(-[a-z0-9]+)*$/;

export const NO_FILTERS: RunFilters = { mine: false, state: null, variantSlug: null };

/** Reads filters from a query string (URLSearchParams or Next's ReadonlyURLSearchParams). */
export function parseRunFilters(params: { get(name: string): string | null }): RunFilters {
  const state = params.get("state");
  const variant = params.get("variant");
  return {
    mine: params.get("mine") === "1",
    state: state !== null && (RUN_STATES as readonly string[]).includes(state) ? (state as RunStateName) : null,
    variantSlug: variant !== null && variant.length <= 64 && SLUG.test(variant) ? variant : null,
  };
}

/** The query string for `filters`, "" when none is set; keys in a fixed order for stable URLs. */
export function runFiltersQuery(filters: RunFilters): string {
  const params = new URLSearchParams();
  if (filters.mine) params.set("mine", "1");
  if (filters.state) params.set("state", filters.state);
  if (filters.variantSlug) params.set("variant", filters.variantSlug);
  const query = params.toString();
  return query === "" ? "" : `?${query}`;
}

export function hasFilters(filters: RunFilters): boolean {
  return filters.mine || filters.state !== null || filters.variantSlug !== null;
}
