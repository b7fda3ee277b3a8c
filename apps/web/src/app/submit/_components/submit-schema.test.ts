import { describe, expect, it } from "vitest";
import { MAX_SEEDS_PER_SUBMISSION } from "../../../server/services/runs";
import { MAX_SEEDS, submitFormSchema } from "./submit-schema";

describe("the submit form", () => {
  it("allows as many seeds as the server", () => {
    expect(MAX_SEEDS).toBe(MAX_SEEDS_PER_SUBMISSION);
  });

  it("names each problem's field", () => {
    const result = submitFormSchema.safeParse({ variantId: "", recipeId: "x", seedCount: 0 });
    expect(result.error?.issues.map((issue) => issue.path.join("."))).toEqual(["variantId", "recipeId", "seedCount"]);
  });
});
