import { taskVariantSchema } from "@transcend/protocol";
import { describe, expect, it } from "vitest";
import { findPreset, presets } from "./presets";
import { resolveVariant } from "./resolve";
import { createRng } from "./rng";

function preset(slug: string) {
  const variant = findPreset(slug);
  if (!variant) throw new Error(`no preset ${slug}`);
  return variant;
}

describe("presets", () => {
  it("cover every family × axis with zero and partial overlap, all valid", () => {
    expect(presets).toHaveLength(3 * 4 * 2);
    for (const family of ["string-ops", "graph-path", "mod-arith"]) {
      for (const axis of ["depth", "length", "representation", "composition"]) {
        const zero = preset(`${family}-${axis}-zero`);
        const partial = preset(`${family}-${axis}-partial`);
        expect(zero.pretrainingMix).toEqual({ id: 1 });
        expect(partial.pretrainingMix).toEqual({ id: 0.95, ood: 0.05 });
        expect(zero.splits.map((split) => split.axis)).toEqual(["id", axis]);
        expect(partial.splits).toEqual(zero.splits);
      }
    }
    for (const variant of presets) expect(taskVariantSchema.parse(variant)).toEqual(variant);
    expect(new Set(presets.map((variant) => variant.slug)).size).toBe(presets.length);
    expect(findPreset("no-such-preset")).toBeUndefined();
  });

  it("are plain JSON", () => {
    expect(JSON.parse(JSON.stringify(presets))).toEqual(presets);
  });
});

describe("resolveVariant", () => {
  it("lays sequences out as <bos> prompt <think> chain <answer> answer <eos>", () => {
    const resolved = resolveVariant(preset("string-ops-depth-zero"));
    const example = resolved.sample("id", createRng(1));
    expect(resolved.promptTokens(example)).toEqual(["<bos>", ...example.prompt]);
    expect(resolved.completionTokens(example)).toEqual([
      "<think>",
      ...example.chainOfThought,
      "<answer>",
      ...example.answer,
      "<eos>",
    ]);
    expect(resolved.splitNames).toEqual(["id", "ood"]);
    expect(resolved.evalSplits).toEqual(["id", "ood"]);
    expect(resolved.maxSequenceLength).toBeLessThan(128);
    expect(() => resolved.sample("nope", createRng(1))).toThrow(/no split "nope"/);
  });

  it("leaves the chain of thought out when the variant does", () => {
    const resolved = resolveVariant({ ...preset("mod-arith-depth-zero"), chainOfThought: false });
    const example = resolved.sample("id", createRng(1));
    const completion = resolved.completionTokens(example);
    expect(completion).toEqual(["<answer>", ...example.answer, "<eos>"]);
    expect(resolved.verify(resolved.promptTokens(example), completion)).toBe(1);
    expect(resolved.verify(resolved.promptTokens(example), ["<answer>", "<eos>"], { formatReward: 0.2 })).toBe(0);
  });

  it("draws splits by the pretraining and GRPO mixes", () => {
    const resolved = resolveVariant(preset("graph-path-depth-partial"));
    const rng = createRng("mix");
    const counts = { pretraining: 0, grpo: 0 };
    const draws = 20_000;
    for (let i = 0; i < draws; i++) {
      if (resolved.samplePretraining(rng).split === "ood") counts.pretraining++;
      if (resolved.sampleGrpo(rng).split === "ood") counts.grpo++;
    }
    expect(counts.pretraining / draws).toBeCloseTo(0.05, 2);
    expect(counts.grpo / draws).toBeCloseTo(0.5, 1);
    const zero = resolveVariant(preset("graph-path-depth-zero"));
    for (let i = 0; i < 2000; i++) expect(zero.samplePretraining(rng).split).toBe("id");
  });

  it("draws the same pretraining stream from the same seed", () => {
    const resolved = resolveVariant(preset("string-ops-length-partial"));
    const stream = (seed: number) => {
      const rng = createRng(seed).fork("data");
      return Array.from({ length: 50 }, () => resolved.samplePretraining(rng));
    };
    expect(stream(11)).toEqual(stream(11));
    expect(stream(11)).not.toEqual(stream(12));
  });
});
