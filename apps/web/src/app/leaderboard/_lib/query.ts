// The leaderboard's URL is its state: sort and filters live in the query string, so a view
// can be shared as a link. Unknown or malformed values fall back to the defaults instead of
// failing the page. Pure functions, unit-tested.
import { AXES, backendNameSchema, TASK_FAMILIES } from "@transcend/protocol";
import { LEADERBOARD_SORTS } from "../../../server/services/leaderboard";

export type SearchParams = Record<string, string | string[] | undefined>;

export type SortKey = (typeof LEADERBOARD_SORTS)[number];
export type OodAxisName = Exclude<(typeof AXES)[number], "id">;
export type FamilyName = (typeof TASK_FAMILIES)[number];
export type BackendFilter = (typeof backendNameSchema.options)[number];

export const OOD_AXES = AXES.filter((axis): axis is OodAxisName => axis !== "id");
export const BACKENDS = backendNameSchema.options;
export const FAMILIES = TASK_FAMILIES;

export interface LeaderboardView {
  sort: SortKey;
  direction: "asc" | "desc";
  axis?: OodAxisName;
  family?: FamilyName;
  backend?: BackendFilter;
}

const DEFAULT_VIEW: LeaderboardView = { sort: "ood-gain", direction: "desc" };

const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);
const oneOf = <T extends string>(options: readonly T[], value: string | undefined): T | undefined =>
  options.find((option) => option === value);

export function parseView(params: SearchParams): LeaderboardView {
  const view: LeaderboardView = {
    sort: oneOf(LEADERBOARD_SORTS, first(params.sort)) ?? DEFAULT_VIEW.sort,
    direction: first(params.dir) === "asc" ? "asc" : "desc",
  };
  const axis = oneOf(OOD_AXES, first(params.axis));
  const family = oneOf(FAMILIES, first(params.family));
  const backend = oneOf(BACKENDS, first(params.backend));
  if (axis) view.axis = axis;
  if (family) view.family = family;
  if (backend) view.backend = backend;
  return view;
}

/** The query string of a view, defaults left out so links stay short. */
export function viewQuery(view: LeaderboardView): string {
  const params = new URLSearchParams();
  if (view.sort !== DEFAULT_VIEW.sort) params.set("sort", view.sort);
  if (view.direction !== DEFAULT_VIEW.direction) params.set("dir", view.direction);
  if (view.axis) params.set("axis", view.axis);
  if (view.family) params.set("family", view.family);
  if (view.backend) params.set("backend", view.backend);
  const query = params.toString();
  return query === "" ? "" : `?${query}`;
}

/** Clicking a column: sort by it (descending first), or flip the direction when it already sorts. */
export function sortLink(path: string, view: LeaderboardView, sort: SortKey): string {
  const direction = view.sort === sort ? (view.direction === "desc" ? "asc" : "desc") : sort === "recipe" ? "asc" : "desc";
  return `${path}${viewQuery({ ...view, sort, direction })}`;
}

// ── numbers as the leaderboard shows them ──

export const percent = (value: number) => `${(value * 100).toFixed(1)}%`;

/** A gain in percentage points with its sign. */
export const points = (value: number) => `${value > 0 ? "+" : value < 0 ? "−" : "±"}${Math.abs(value * 100).toFixed(1)} pts`;

/** "± 3.2" (points) or "" when there is no interval (one seed). */
export const halfWidthPoints = (halfWidth: number | null) => (halfWidth === null ? "" : `± ${(halfWidth * 100).toFixed(1)}`);

export const shortHash = (sha256: string) => sha256.slice(0, 12);
