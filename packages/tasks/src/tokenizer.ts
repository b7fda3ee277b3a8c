import type { Tokenizer } from "./types";

/** Special tokens come first in every vocabulary so their ids are the same across families. */
export const SPECIAL_TOKENS = ["<pad>", "<bos>", "<eos>", "<think>", "<answer>"] as const;
export type SpecialToken = (typeof SPECIAL_TOKENS)[number];
export const PAD = "<pad>";
export const BOS = "<bos>";
export const EOS = "<eos>";
export const THINK = "<think>";
export const ANSWER = "<answer>";

/** The model configs use a 64-token embedding; every family must fit in it. */
export const MAX_VOCAB_SIZE = 64;

export function isSpecialToken(token: string): boolean {
  return (SPECIAL_TOKENS as readonly string[]).includes(token);
}

/** A tokenizer over the specials followed by `familyTokens`, in that order (index = id). */
export function createTokenizer(familyTokens: readonly string[]): Tokenizer {
  const vocab = Object.freeze([...SPECIAL_TOKENS, ...familyTokens]);
  if (vocab.length > MAX_VOCAB_SIZE) {
    throw new RangeError(`vocabulary of ${vocab.length} tokens exceeds ${MAX_VOCAB_SIZE}`);
  }
  const ids = new Map<string, number>();
  vocab.forEach((token, id) => {
    if (ids.has(token)) throw new Error(`token "${token}" appears twice in the vocabulary`);
    if (token === "" || /\s/.test(token)) throw new Error(`token "${token}" is empty or contains whitespace`);
    ids.set(token, id);
  });
  const idOf = (token: string): number => {
    const id = ids.get(token);
    if (id === undefined) throw new Error(`unknown token "${token}"`);
    return id;
  };
  return {
    vocab,
    size: vocab.length,
    pad: idOf(PAD),
    bos: idOf(BOS),
    eos: idOf(EOS),
    think: idOf(THINK),
    answer: idOf(ANSWER),
    encode: (tokens) => tokens.map(idOf),
    decode: (tokenIds) =>
      tokenIds.map((id) => {
        const token = vocab[id];
        if (token === undefined) throw new RangeError(`token id ${id} is outside the vocabulary of ${vocab.length}`);
        return token;
      }),
  };
}
