// Presets are a few points of the parameter space; users write their own variants. Every split
// the schema accepts, up to its limits, must generate items that fit their length bound and verify.
import {
  MOD_ARITH_OPERATORS,
  STRING_OPS_OPERATIONS,
  TASK_LIMITS,
  taskVariantSchema,
  type TaskFamilyName,
} from "@transcend/protocol";
import { describe, expect, it } from "vitest";
import { resolveVariant } from "./resolve";
import { createRng } from "./rng";
import type { Rng } from "./types";

const range = (rng: Rng, limits: { min: number; max: number }) => {
  const [a, b] = [rng.int(limits.min, limits.max), rng.int(limits.min, limits.max)];
  return { min: Math.min(a, b), max: Math.max(a, b) };
};
const subset = <T>(rng: Rng, items: readonly T[]) => rng.shuffle([...items]).slice(0, rng.int(1, items.length));

function randomParams(family: TaskFamilyName, rng: Rng): Record<string, unknown> {
  switch (family) {
    case "string-ops":
      return {
        wordLength: range(rng, TASK_LIMITS.stringOps.wordLength),
        depth: range(rng, TASK_LIMITS.stringOps.depth),
        tokenSet: "A",
        operations: subset(rng, STRING_OPS_OPERATIONS),
      };
    case "graph-path": {
      const route = rng.pick(["free", "within-half", "across-bridge"] as const);
      const distractors = range(rng, TASK_LIMITS.graphPath.distractorEdges);
      return {
        pathLength: range(rng, TASK_LIMITS.graphPath.pathLength),
        distractorEdges: route === "within-half" ? { ...distractors, min: Math.max(1, distractors.min) } : distractors,
        tokenSet: "A",
        route,
      };
    }
    case "mod-arith": {
      const mixing = rng.pick(["any", "separate", "mixed"] as const);
      const depth = range(rng, TASK_LIMITS.modArith.depth);
      return {
        depth: mixing === "mixed" ? { min: Math.max(2, depth.min), max: Math.max(2, depth.max) } : depth,
        operandDigits: range(rng, TASK_LIMITS.modArith.operandDigits),
        tokenSet: "A",
        modulus: rng.int(TASK_LIMITS.modArith.modulus.min, TASK_LIMITS.modArith.modulus.max),
        operators: mixing === "mixed" ? [...MOD_ARITH_OPERATORS] : subset(rng, MOD_ARITH_OPERATORS),
        operatorMixing: mixing,
      };
    }
  }
}

describe("splits anywhere within the schema's limits", () => {
  it.each(["string-ops", "graph-path", "mod-arith"] as const)("%s items verify and fit their bound", (family) => {
    const rng = createRng(`limits/${family}`);
    for (let trial = 0; trial < 150; trial++) {
      const params = randomParams(family, rng);
      const variant = taskVariantSchema.parse({
        slug: "random-split",
        name: "Random split",
        family,
        splits: [
          { name: "id", axis: "id", params },
          { name: "other-tokens", axis: "representation", params: { ...params, tokenSet: "B" } },
        ],
        pretrainingMix: { id: 1 },
        grpoMix: { id: 1 },
        evalSplits: ["id"],
      });
      const resolved = resolveVariant(variant);
      expect(resolved.maxSequenceLength).toBeLessThanOrEqual(256);
      for (const split of resolved.splitNames) {
        const bound = resolved.lengthBound(split);
        for (let i = 0; i < 10; i++) {
          const example = resolved.sample(split, rng);
          const prompt = resolved.promptTokens(example);
          const completion = resolved.completionTokens(example);
          expect(prompt.length).toBeLessThanOrEqual(bound.prompt);
          expect(completion.length).toBeLessThanOrEqual(bound.completion);
          expect(resolved.verify(prompt, completion), `${JSON.stringify(params)}: ${prompt.join(" ")}`).toBe(1);
          expect(resolved.tokenizer.encode([...prompt, ...completion])).toHaveLength(prompt.length + completion.length);
        }
      }
    }
  });
});
