import Link from "next/link";
import { buttonClasses, Select } from "@/components/ui";
import { BACKENDS, FAMILIES, OOD_AXES, type LeaderboardView } from "../_lib/query";

/**
 * Filters as a plain GET form: the result is a URL that carries them (shareable, works
 * without JavaScript). The current sort rides along in hidden fields.
 */
export function LeaderboardFilters({
  action,
  view,
  showFamily,
}: {
  action: string;
  view: LeaderboardView;
  showFamily: boolean;
}) {
  const label = "block text-xs font-medium text-slate-600 dark:text-slate-400";
  return (
    <form method="get" action={action} className="flex flex-wrap items-end gap-3" aria-label="Filter the leaderboard">
      {view.sort !== "ood-gain" && <input type="hidden" name="sort" value={view.sort} />}
      {view.direction !== "desc" && <input type="hidden" name="dir" value={view.direction} />}
      {showFamily && (
        <label className="space-y-1">
          <span className={label}>Family</span>
          <Select name="family" defaultValue={view.family ?? ""} className="w-40">
            <option value="">All families</option>
            {FAMILIES.map((family) => (
              <option key={family} value={family}>
                {family}
              </option>
            ))}
          </Select>
        </label>
      )}
      <label className="space-y-1">
        <span className={label}>OOD axis</span>
        <Select name="axis" defaultValue={view.axis ?? ""} className="w-40">
          <option value="">All axes</option>
          {OOD_AXES.map((axis) => (
            <option key={axis} value={axis}>
              {axis}
            </option>
          ))}
        </Select>
      </label>
      <label className="space-y-1">
        <span className={label}>Backend</span>
        <Select name="backend" defaultValue={view.backend ?? ""} className="w-40">
          <option value="">Any backend</option>
          {BACKENDS.map((backend) => (
            <option key={backend} value={backend}>
              {backend}
            </option>
          ))}
        </Select>
      </label>
      <button type="submit" className={buttonClasses("secondary", "md")}>
        Apply
      </button>
      {(view.axis ?? view.family ?? view.backend) && (
        <Link href={action} className="py-2 text-sm text-indigo-600 hover:underline dark:text-indigo-400">
          Clear filters
        </Link>
      )}
    </form>
  );
}
