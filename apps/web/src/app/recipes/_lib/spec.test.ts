import { describe, expect, it } from "vitest";
import { recipeForkOf, recipeFromPreset, recipeSpecFormSchema, withoutEmptyRequirements } from "./spec";

describe("recipe specs", () => {
  it("a preset makes a valid spec with its own slug", () => {
    const spec = recipeFromPreset("tiny");
    expect(recipeSpecFormSchema.parse(spec)).toMatchObject({ slug: "my-tiny-recipe", model: { layers: 1 } });
  });

  it("a fork gets a new slug and name", () => {
    const fork = recipeForkOf(recipeSpecFormSchema.parse(recipeFromPreset("paper")));
    expect(fork.slug).toBe("my-paper-recipe-fork");
    expect(fork.name).toBe("My paper recipe (fork)");
  });

  it("rejects out-of-range values with field paths", () => {
    const spec = recipeFromPreset("tiny");
    const result = recipeSpecFormSchema.safeParse({ ...spec, slug: "X", model: { ...spec.model, layers: 99 } });
    expect(result.error?.issues.map((issue) => issue.path.join("."))).toEqual(expect.arrayContaining(["slug", "model.layers"]));
  });

  it("stores requirements that ask nothing as none, and keeps real ones", () => {
    const spec = recipeSpecFormSchema.parse(recipeFromPreset("tiny"));
    const unticked = recipeSpecFormSchema.parse({ ...spec, requirements: { gpu: false, minMemoryBytes: undefined, minCores: undefined } });
    expect(withoutEmptyRequirements(unticked)).toEqual(spec);
    expect(withoutEmptyRequirements(unticked)).not.toHaveProperty("requirements");
    const gpu = recipeSpecFormSchema.parse({ ...spec, requirements: { gpu: true } });
    expect(withoutEmptyRequirements(gpu).requirements).toEqual({ gpu: true });
    const cores = recipeSpecFormSchema.parse({ ...spec, requirements: { gpu: false, minCores: 4 } });
    expect(withoutEmptyRequirements(cores).requirements).toEqual({ gpu: false, minCores: 4 });
  });
});
