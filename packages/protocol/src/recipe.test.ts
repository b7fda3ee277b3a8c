import { describe, expect, it } from "vitest";
import { recipePresets, recipeSchema, requiresNothing } from "./recipe";

const GIB = 2 ** 30;
const paths = (input: unknown) => recipeSchema.safeParse(input).error?.issues.map((issue) => issue.path.join(".")) ?? [];

describe("recipeSchema's runner requirements", () => {
  it("leaves a recipe stored before requirements existed as it was: no key, nothing required", () => {
    const stored = JSON.parse(JSON.stringify(recipePresets.tiny)) as Record<string, unknown>;
    expect(stored).not.toHaveProperty("requirements");
    const parsed = recipeSchema.parse(stored);
    expect(parsed).not.toHaveProperty("requirements");
    expect(parsed).toEqual(stored);
    expect(requiresNothing(parsed.requirements)).toBe(true);
    for (const preset of Object.values(recipePresets)) expect(preset.requirements).toBeUndefined();
  });

  it("keeps the names the queue reads, and defaults gpu to false", () => {
    const parsed = recipeSchema.parse({ requirements: { gpu: true, minMemoryBytes: 8 * GIB, minCores: 4 } });
    expect(parsed.requirements).toEqual({ gpu: true, minMemoryBytes: 8 * GIB, minCores: 4 });
    expect(recipeSchema.parse({ requirements: { minCores: 2 } }).requirements).toEqual({ gpu: false, minCores: 2 });
    expect(recipeSchema.parse({ requirements: {} }).requirements).toEqual({ gpu: false });
  });

  it("accepts the limits and refuses what is past them, by path", () => {
    expect(paths({ requirements: { minMemoryBytes: 1024 * GIB, minCores: 256 } })).toEqual([]);
    expect(paths({ requirements: { minMemoryBytes: 2 ** 20, minCores: 1 } })).toEqual([]);
    expect(paths({ requirements: { minMemoryBytes: 1024 * GIB + 1 } })).toEqual(["requirements.minMemoryBytes"]);
    expect(paths({ requirements: { minMemoryBytes: 1000 } })).toEqual(["requirements.minMemoryBytes"]);
    expect(paths({ requirements: { minMemoryBytes: 1.5 * 2 ** 20 + 0.5 } })).toEqual(["requirements.minMemoryBytes"]);
    expect(paths({ requirements: { minCores: 0 } })).toEqual(["requirements.minCores"]);
    expect(paths({ requirements: { minCores: 257 } })).toEqual(["requirements.minCores"]);
    expect(paths({ requirements: { minCores: 2.5 } })).toEqual(["requirements.minCores"]);
    expect(paths({ requirements: { gpu: "yes" } })).toEqual(["requirements.gpu"]);
    expect(paths({ requirements: true })).toEqual(["requirements"]);
    // The memory message speaks in the unit the form shows.
    const tooBig = recipeSchema.safeParse({ requirements: { minMemoryBytes: 2 ** 41 } });
    expect(tooBig.error?.issues[0]?.message).toBe("at most 1 TiB (1,024 GiB)");
  });

  it("says when requirements ask nothing, which is the same as having none", () => {
    expect(requiresNothing(undefined)).toBe(true);
    expect(requiresNothing({})).toBe(true);
    expect(requiresNothing({ gpu: false })).toBe(true);
    expect(requiresNothing({ gpu: true })).toBe(false);
    expect(requiresNothing({ minCores: 1 })).toBe(false);
    expect(requiresNothing({ minMemoryBytes: GIB })).toBe(false);
  });
});
