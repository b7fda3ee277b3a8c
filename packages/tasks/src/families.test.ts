import { describe, expect, it } from "vitest";
import { families, graphPath, modArith, stringOps } from "./families";
import { presets } from "./presets";
import { resolveVariant } from "./resolve";
import { createRng } from "./rng";
import { ANSWER, EOS, MAX_VOCAB_SIZE, SPECIAL_TOKENS } from "./tokenizer";

const resolvedPresets = presets.map((variant) => resolveVariant(variant));

/** Independent of the family's verifier: is `path` a simple path from start to goal along the prompt's edges? */
function isValidGraphPath(prompt: readonly string[], path: readonly string[]): boolean {
  const query = prompt.indexOf("?");
  const edges = new Set<string>();
  const edgeTokens = prompt.slice(prompt[0] === "<bos>" ? 1 : 0, query);
  for (let i = 0; i < edgeTokens.length; i += 3) edges.add(`${edgeTokens[i]}>${edgeTokens[i + 1]}`);
  const [start, goal] = prompt.slice(query + 1);
  return (
    path.length >= 2 &&
    path[0] === start &&
    path[path.length - 1] === goal &&
    new Set(path).size === path.length &&
    path.slice(1).every((node, i) => edges.has(`${path[i]}>${node}`))
  );
}

describe("vocabularies", () => {
  it("put the specials first and fit the 64-token model configs", () => {
    for (const family of Object.values(families)) {
      const { tokenizer } = family;
      expect(tokenizer.vocab.slice(0, 5)).toEqual([...SPECIAL_TOKENS]);
      expect([tokenizer.pad, tokenizer.bos, tokenizer.eos, tokenizer.think, tokenizer.answer]).toEqual([0, 1, 2, 3, 4]);
      expect(tokenizer.size).toBeLessThanOrEqual(MAX_VOCAB_SIZE);
      expect(new Set(tokenizer.vocab).size).toBe(tokenizer.size);
      expect(tokenizer.decode(tokenizer.encode(tokenizer.vocab))).toEqual(tokenizer.vocab);
      expect(() => tokenizer.encode(["nope"])).toThrow(/unknown token/);
      expect(() => tokenizer.decode([tokenizer.size])).toThrow(RangeError);
    }
  });
});

describe("sampling", () => {
  it("is deterministic for a seed and differs across seeds", () => {
    for (const resolved of resolvedPresets) {
      for (const split of resolved.splitNames) {
        const draw = (seed: number) => {
          const rng = createRng(seed);
          return Array.from({ length: 20 }, () => resolved.sample(split, rng));
        };
        expect(draw(3)).toEqual(draw(3));
        expect(draw(3)).not.toEqual(draw(4));
      }
    }
  });

  it("keeps every item within its split's length bound: ID under 64 tokens, OOD under 128", () => {
    for (const resolved of resolvedPresets) {
      const rng = createRng(resolved.variant.slug);
      for (const split of resolved.variant.splits) {
        const bound = resolved.lengthBound(split.name);
        expect(bound.prompt + bound.completion).toBeLessThan(split.axis === "id" ? 64 : 128);
        for (let i = 0; i < 200; i++) {
          const example = resolved.sample(split.name, rng);
          expect(resolved.promptTokens(example).length).toBeLessThanOrEqual(bound.prompt);
          expect(resolved.completionTokens(example).length).toBeLessThanOrEqual(bound.completion);
        }
      }
    }
  });
});

describe("verification", () => {
  it("gives reward 1 to every sampled answer, for every preset split", () => {
    for (const resolved of resolvedPresets) {
      const rng = createRng(`verify/${resolved.variant.slug}`);
      for (const split of resolved.splitNames) {
        for (let i = 0; i < 300; i++) {
          const example = resolved.sample(split, rng);
          const prompt = resolved.promptTokens(example);
          const completion = resolved.completionTokens(example);
          expect(resolved.tokenizer.encode([...prompt, ...completion]).length).toBe(prompt.length + completion.length);
          expect(resolved.verify(prompt, completion), `${resolved.variant.slug}/${split}: ${prompt.join(" ")}`).toBe(1);
        }
      }
    }
  });

  it("gives 0 to every single-token corruption of the answer, its <answer> marker or its <eos>", () => {
    for (const resolved of resolvedPresets.filter((r) => r.variant.slug.endsWith("-zero"))) {
      const rng = createRng(`corrupt/${resolved.variant.slug}`);
      const vocab = resolved.tokenizer.vocab;
      for (const split of resolved.splitNames) {
        for (let i = 0; i < 40; i++) {
          const example = resolved.sample(split, rng);
          const prompt = resolved.promptTokens(example);
          const completion = resolved.completionTokens(example);
          for (let position = completion.indexOf(ANSWER); position < completion.length; position++) {
            for (const replacement of vocab) {
              if (replacement === completion[position]) continue;
              const corrupted = completion.with(position, replacement);
              const afterMarker = corrupted.slice(corrupted.indexOf(ANSWER) + 1);
              const answer = afterMarker.includes(EOS) ? afterMarker.slice(0, afterMarker.indexOf(EOS)) : afterMarker;
              // In a graph a changed node can still spell another valid path; that one rightly earns 1.
              const expected = resolved.variant.family === "graph-path" && isValidGraphPath(prompt, answer) ? 1 : 0;
              expect(resolved.verify(prompt, corrupted), `${prompt.join(" ")} ⇒ ${corrupted.join(" ")}`).toBe(expected);
            }
          }
        }
      }
    }
  });

  it("reads the answer between <answer> and <eos>, and nothing else", () => {
    const prompt = ["<bos>", "a", "b", "c", "|", "rev"];
    expect(stringOps.verify(prompt, ["<think>", "c", "b", "a", "<answer>", "c", "b", "a", "<eos>"])).toBe(1);
    // The chain of thought is the model's own business; only the answer is checked.
    expect(stringOps.verify(prompt, ["<think>", "a", "a", "<answer>", "c", "b", "a", "<eos>"])).toBe(1);
    expect(stringOps.verify(prompt, ["<answer>", "c", "b", "a", "<eos>", "junk", "<pad>"])).toBe(1);
    // Generation cut right after a correct answer still answers.
    expect(stringOps.verify(prompt, ["<answer>", "c", "b", "a"])).toBe(1);
    expect(stringOps.verify(prompt, ["<think>", "c", "b", "a", "<eos>"])).toBe(0);
    expect(stringOps.verify(prompt, ["c", "b", "a"])).toBe(0);
    expect(stringOps.verify(prompt, [])).toBe(0);
    expect(stringOps.verify(prompt, ["<answer>", "c", "b", "a", "a", "<eos>"])).toBe(0);
    expect(stringOps.verify(prompt, ["<answer>", "c", "b", "a", "a"])).toBe(0);
    expect(stringOps.verify(prompt, ["<answer>", "c", "b", "a", "<pad>", "<eos>"])).toBe(0);
    expect(stringOps.verify(prompt, ["<answer>", "c", "b", "<eos>"])).toBe(0);
    // The answer must be written in the prompt's token set.
    expect(stringOps.verify(prompt, ["<answer>", "C", "B", "A", "<eos>"])).toBe(0);
  });

  it("checks the completion against the prompt, with each family's own rules", () => {
    // inc shifts within the atom set, wrapping h → a.
    expect(stringOps.verify(["h", "a", "|", "inc", "swp"], ["<answer>", "b", "a", "<eos>"])).toBe(1);
    expect(stringOps.verify(["A", "B", "C", "|", "rol", "ror", "dec"], ["<answer>", "H", "A", "B", "<eos>"])).toBe(1);
    // (12 + 5) = 17 ≡ 3, 3 * 6 = 18 ≡ 4 (mod 7); only the canonical numeral counts.
    expect(modArith.verify(["1", "2", "+", "5", "*", "6", "%", "7"], ["<answer>", "4", "<eos>"])).toBe(1);
    expect(modArith.verify(["1", "2", "+", "5", "*", "6", "%", "7"], ["<answer>", "0", "4", "<eos>"])).toBe(0);
    // The same in the other digit set (a–j for 0–9): 12 − 9 = 3 (mod 7).
    expect(modArith.verify(["b", "c", "-", "j", "%", "h"], ["<answer>", "d", "<eos>"])).toBe(1);
    expect(modArith.verify(["b", "c", "-", "j", "%", "h"], ["<answer>", "3", "<eos>"])).toBe(0);
  });

  it("accepts any valid graph path and refuses paths along missing edges", () => {
    // a → b → d and a → c → d both reach d; a → d is not an edge.
    const prompt = ["<bos>", "a", "b", ",", "b", "d", ",", "a", "c", ",", "c", "d", ",", "d", "e", "?", "a", "d"];
    expect(graphPath.verify(prompt, ["<answer>", "a", "b", "d", "<eos>"])).toBe(1);
    expect(graphPath.verify(prompt, ["<think>", "d", "c", "a", "<answer>", "a", "c", "d", "<eos>"])).toBe(1);
    expect(graphPath.verify(prompt, ["<answer>", "a", "d", "<eos>"])).toBe(0);
    expect(graphPath.verify(prompt, ["<answer>", "a", "b", "c", "d", "<eos>"])).toBe(0);
    expect(graphPath.verify(prompt, ["<answer>", "b", "d", "<eos>"])).toBe(0);
    expect(graphPath.verify(prompt, ["<answer>", "a", "b", "d", "e", "<eos>"])).toBe(0);
    expect(graphPath.verify(prompt, ["<answer>", "a", "<eos>"])).toBe(0);
  });

  it("accepts a different valid path than the generated one in sampled graphs", () => {
    const variant = presets.find((v) => v.slug === "graph-path-length-zero");
    if (!variant) throw new Error("missing preset");
    const resolved = resolveVariant(variant);
    const rng = createRng("alternatives");
    let alternatives = 0;
    for (let i = 0; i < 2000 && alternatives < 20; i++) {
      const example = resolved.sample("ood", rng);
      const prompt = resolved.promptTokens(example);
      // Try every one-node detour around each middle node of the reference path.
      for (let position = 1; position < example.answer.length - 1; position++) {
        for (const node of resolved.tokenizer.vocab) {
          const candidate = example.answer.with(position, node);
          if (node === example.answer[position] || !isValidGraphPath(prompt, candidate)) continue;
          alternatives++;
          expect(resolved.verify(prompt, ["<answer>", ...candidate, "<eos>"])).toBe(1);
        }
      }
    }
    expect(alternatives).toBeGreaterThan(0);
  });

  it("pays an optional format reward for a well-formed wrong answer, off by default", () => {
    const [variant] = presets;
    if (!variant) throw new Error("no presets");
    const resolved = resolveVariant(variant);
    const rng = createRng(1);
    const example = resolved.sample("id", rng);
    const prompt = resolved.promptTokens(example);
    const wrong = resolved.completionTokens(example);
    const last = wrong.length - 2;
    wrong[last] = wrong[last] === "a" ? "b" : "a";
    expect(resolved.verify(prompt, wrong)).toBe(0);
    expect(resolved.verify(prompt, wrong, { formatReward: 0.1 })).toBe(0.1);
    expect(resolved.verify(prompt, resolved.completionTokens(example), { formatReward: 0.1 })).toBe(1);
    expect(resolved.verify(prompt, wrong.slice(0, -1), { formatReward: 0.1 })).toBe(0);
    expect(resolved.verify(prompt, wrong.slice(1), { formatReward: 0.1 })).toBe(0); // no <think> opener
    expect(resolved.verify(prompt, ["<think>", "<answer>", "<eos>"], { formatReward: 0.1 })).toBe(0);
    expect(() => resolved.verify(prompt, wrong, { formatReward: 1 })).toThrow(RangeError);
    expect(() => resolved.verify(prompt, wrong, { formatReward: -0.1 })).toThrow(RangeError);
  });

  it("refuses prompts that are not the family's", () => {
    expect(() => stringOps.verify(["a", "b"], ["<answer>", "a", "<eos>"])).toThrow(/not a string-ops prompt/);
    expect(() => graphPath.verify(["a", "b", "?", "a"], ["<answer>", "a", "<eos>"])).toThrow(/not a graph-path prompt/);
    expect(() => modArith.verify(["1", "+", "%", "7"], ["<answer>", "1", "<eos>"])).toThrow(/not a mod-arith prompt/);
  });
});
