// Filters of a catalogue list (task variants, recipes) as a plain GET form: the URL holds
// them, so a filtered list can be shared and works without JavaScript.
import { Button, Input, Select } from "./ui";

export function ListFilters({
  signedIn,
  owner,
  search,
  extra,
}: {
  signedIn: boolean;
  owner: "all" | "mine" | "presets";
  search: string;
  extra?: { name: string; label: string; value: string; options: { value: string; label: string }[] };
}) {
  return (
    <form method="get" role="search" className="flex flex-wrap items-end gap-3">
      <div className="min-w-48 flex-1">
        <label htmlFor="filter-q" className="mb-1.5 block text-sm font-medium">
          Search
        </label>
        <Input id="filter-q" name="q" type="search" defaultValue={search} maxLength={100} placeholder="name or slug" />
      </div>
      <div>
        <label htmlFor="filter-owner" className="mb-1.5 block text-sm font-medium">
          Whose
        </label>
        <Select id="filter-owner" name="owner" defaultValue={owner}>
          <option value="all">Everyone&apos;s</option>
          {signedIn && <option value="mine">Mine</option>}
          <option value="presets">Presets</option>
        </Select>
      </div>
      {extra && (
        <div>
          <label htmlFor={`filter-${extra.name}`} className="mb-1.5 block text-sm font-medium">
            {extra.label}
          </label>
          <Select id={`filter-${extra.name}`} name={extra.name} defaultValue={extra.value}>
            <option value="">Any</option>
            {extra.options.map((option) => (
              <option key={option.value} value={option.value}>
                {option.label}
              </option>
            ))}
          </Select>
        </div>
      )}
      <Button type="submit" variant="secondary">
        Filter
      </Button>
    </form>
  );
}
