// Each OOD split must differ from id exactly on its axis: on its own axis no value an OOD item
// shows ever occurs in id; on every other axis OOD items show only values id shows too.
// Values are read back from generated prompts, not from the split's parameters.
import type { OodAxis } from "@transcend/protocol";
import { describe, expect, it } from "vitest";
import { families } from "./families";
import { presets } from "./presets";
import { resolveVariant } from "./resolve";
import { createRng } from "./rng";

const SAMPLES = 10_000;
const AXES: OodAxis[] = ["depth", "length", "representation", "composition"];

function observe(variantSlug: string, split: string): Record<OodAxis, Set<string | number>> {
  const variant = presets.find((preset) => preset.slug === variantSlug);
  if (!variant) throw new Error(`no preset ${variantSlug}`);
  const resolved = resolveVariant(variant);
  const family = families[variant.family];
  const rng = createRng(`axes/${variantSlug}/${split}`);
  const seen: Record<OodAxis, Set<string | number>> = {
    depth: new Set(),
    length: new Set(),
    representation: new Set(),
    composition: new Set(),
  };
  for (let i = 0; i < SAMPLES; i++) {
    const values = family.measure(resolved.sample(split, rng).prompt);
    for (const axis of AXES) for (const value of values[axis]) seen[axis].add(value);
  }
  return seen;
}

const cases = presets.filter((preset) => preset.slug.endsWith("-zero"));

describe.each(cases.map((preset) => [preset.slug, preset.splits[1]?.axis ?? "id"] as const))("%s", (slug, oodAxis) => {
  it(`differs from id on ${oodAxis} only, over ${SAMPLES} samples`, () => {
    const id = observe(slug, "id");
    const ood = observe(slug, "ood");
    for (const axis of AXES) {
      const shared = [...ood[axis]].filter((value) => id[axis].has(value));
      if (axis === oodAxis) {
        expect(shared, `${axis}: values seen in both id and ood`).toEqual([]);
      } else {
        const novel = [...ood[axis]].filter((value) => !id[axis].has(value));
        expect(novel, `${axis}: ood values never seen in id`).toEqual([]);
      }
    }
    // Sanity: the splits were not empty on the compared axis.
    expect(ood[oodAxis === "id" ? "depth" : oodAxis].size).toBeGreaterThan(0);
  });
});
