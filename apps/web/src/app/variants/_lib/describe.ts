// A task variant's splits in words, for list and detail pages.
import type { TaskSplit } from "@transcend/protocol";

const range = (r: { min: number; max: number }) => (r.min === r.max ? `${r.min}` : `${r.min}–${r.max}`);

/** "word length 3–5 · depth 1–3 · token set A · ops inc dec …" */
export function describeSplitParams(split: Pick<TaskSplit, "params">): string[] {
  const params = split.params as Record<string, unknown>;
  const parts: string[] = [];
  for (const [key, value] of Object.entries(params)) {
    const label = key.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
    if (value && typeof value === "object" && !Array.isArray(value) && "min" in value && "max" in value) {
      parts.push(`${label} ${range(value as { min: number; max: number })}`);
    } else if (key === "pairs" && Array.isArray(value)) {
      parts.push(`${value.length} allowed pairs`);
    } else if (Array.isArray(value)) {
      parts.push(`${label} ${value.join(" ")}`);
    } else if (value !== undefined) {
      parts.push(`${label} ${String(value)}`);
    }
  }
  return parts;
}

/** The pretraining mix as the leaderboard shows it: "id 95% · ood 5%". */
export function describeMix(mix: Readonly<Record<string, number>>): string {
  const total = Object.values(mix).reduce((sum, weight) => sum + weight, 0);
  if (!(total > 0)) return "—";
  return Object.entries(mix)
    .filter(([, weight]) => weight > 0)
    .map(([split, weight]) => `${split} ${Number(((weight / total) * 100).toFixed(1))}%`)
    .join(" · ");
}
