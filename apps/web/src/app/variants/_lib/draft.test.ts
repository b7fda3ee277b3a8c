import { taskVariantSchema } from "@transcend/protocol";
import { describe, expect, it } from "vitest";
import {
  dropMixKey,
  errorAt,
  forkOf,
  mixShares,
  newSplit,
  previewSplit,
  renameMixKey,
  startingVariant,
  unusedSplitName,
} from "./draft";

describe("the variant form's starting points", () => {
  it.each(["string-ops", "graph-path", "mod-arith"] as const)("a new %s variant is valid as it stands", (family) => {
    const variant = startingVariant(family);
    expect(taskVariantSchema.safeParse(variant).success).toBe(true);
    expect(variant.family).toBe(family);
  });

  it("a fork gets its own slug and name", () => {
    const fork = forkOf(startingVariant("mod-arith"));
    expect(fork.slug).toBe("my-mod-arith-depth-fork");
    expect(fork.name).toContain("(fork)");
    expect(taskVariantSchema.safeParse(fork).success).toBe(true);
  });

  it("a new split copies the id split and takes a free name", () => {
    const variant = startingVariant("string-ops");
    const split = newSplit(variant.splits, "length");
    expect(split.axis).toBe("length");
    expect(split.params).toEqual(variant.splits.find((s) => s.axis === "id")?.params);
    expect(unusedSplitName(["ood-length", "ood-length-2"], "ood-length")).toBe("ood-length-3");
  });
});

describe("mixes follow their splits", () => {
  it("renames and drops keys, keeping the order", () => {
    expect(Object.keys(renameMixKey({ id: 0.9, ood: 0.1 }, "ood", "deep"))).toEqual(["id", "deep"]);
    expect(renameMixKey({ id: 1 }, "missing", "x")).toEqual({ id: 1 });
    expect(dropMixKey({ id: 0.9, ood: 0.1 }, "ood")).toEqual({ id: 0.9 });
  });

  it("shares are the normalised weights", () => {
    expect(mixShares({ id: 3, ood: 1 })).toEqual({ id: 0.75, ood: 0.25 });
    expect(mixShares({ id: 0 })).toBeUndefined();
  });
});

describe("the live preview", () => {
  it("lays out examples as the engine does and marks the rewarded answer", () => {
    const variant = startingVariant("string-ops");
    const split = variant.splits[0];
    if (!split) throw new Error("no split");
    const preview = previewSplit("string-ops", split, { chainOfThought: true, seed: 1, count: 3 });
    if (!preview.ok) throw new Error(preview.problem);
    expect(preview.examples).toHaveLength(3);
    for (const example of preview.examples) {
      const texts = example.tokens.map((token) => token.text);
      expect(texts[0]).toBe("<bos>");
      expect(texts.at(-1)).toBe("<eos>");
      expect(texts).toContain("<think>");
      // The reference completion verifies: generator and verifier agree.
      expect(example.reward).toBe(1);
      const answerIndex = texts.indexOf("<answer>");
      example.tokens.forEach((token, index) => {
        expect(token.rewarded).toBe(index > answerIndex && index < texts.length - 1);
        expect(token.supervised).toBe(index > texts.indexOf("<think>") - 1);
      });
      expect(example.tokens.length).toBeLessThanOrEqual(preview.maxTokens);
    }
  });

  it("is the same for the same seed and leaves out the chain of thought when asked", () => {
    const split = startingVariant("mod-arith").splits[1];
    if (!split) throw new Error("no split");
    const a = previewSplit("mod-arith", split, { chainOfThought: false, seed: 7, count: 2 });
    const b = previewSplit("mod-arith", split, { chainOfThought: false, seed: 7, count: 2 });
    expect(a).toEqual(b);
    if (!a.ok) throw new Error(a.problem);
    expect(a.examples[0]?.tokens.some((token) => token.text === "<think>")).toBe(false);
  });

  it("names the problem when a split's parameters are invalid", () => {
    const split = structuredClone(startingVariant("graph-path").splits[0]);
    if (!split) throw new Error("no split");
    (split.params as { pathLength: { min: number; max: number } }).pathLength = { min: 5, max: 2 };
    const preview = previewSplit("graph-path", split, { chainOfThought: true, seed: 1, count: 1 });
    expect(preview).toEqual({ ok: false, problem: expect.stringContaining("pathLength.max") });
  });
});

describe("errorAt", () => {
  it("reads nested messages and array roots", () => {
    const errors = { splits: { root: { message: "exactly one id" }, 1: { params: { depth: { max: { message: "too deep" } } } } } };
    expect(errorAt(errors, "splits")).toBe("exactly one id");
    expect(errorAt(errors, "splits.1.params.depth.max")).toBe("too deep");
    expect(errorAt(errors, "splits.0.name")).toBeUndefined();
  });
});
