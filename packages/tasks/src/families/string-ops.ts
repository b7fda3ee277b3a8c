// string-ops: a word of L atoms and D operation tokens; the answer applies the operations in
// order. Prompt `a c b | inc rev`, chain of thought `b d c ; c d b` (the word after each
// operation), answer `c d b`.
import {
  STRING_OPS_OPERATIONS,
  stringOpsAllowedPairs,
  stringOpsSplitParamsSchema,
  type StringOpsOperation,
  type StringOpsSplitParams,
  type TokenSet,
} from "@transcend/protocol";
import { MalformedPromptError, arraysEqual, defineFamily, joinWith, splitOn } from "../family";
import type { Rng } from "../types";

/** Two disjoint, equally sized atom alphabets: one task, written in tokens the model may never have seen. */
export const STRING_OPS_ATOMS: Record<TokenSet, readonly string[]> = {
  A: ["a", "b", "c", "d", "e", "f", "g", "h"],
  B: ["A", "B", "C", "D", "E", "F", "G", "H"],
};
const WORD_END = "|";
const STEP = ";";

export function applyOperation(operation: StringOpsOperation, word: readonly string[], atoms: readonly string[]): string[] {
  const shift = (by: number) =>
    word.map((atom) => atoms[(atoms.indexOf(atom) + by + atoms.length) % atoms.length] ?? atom);
  switch (operation) {
    case "inc":
      return shift(1);
    case "dec":
      return shift(-1);
    case "rol":
      return [...word.slice(1), ...word.slice(0, 1)];
    case "ror":
      return [...word.slice(-1), ...word.slice(0, -1)];
    case "rev":
      return [...word].reverse();
    case "swp":
      // Swap positions 0↔1, 2↔3, …; an odd word keeps its last atom in place.
      return word.map((_, index) => word[index % 2 === 0 ? index + 1 : index - 1] ?? word[index] ?? "");
  }
}

type ChainTable = { follows: (first: string, second: string) => boolean; canStart: Set<StringOpsOperation>[] };
// Sampling is hot (10,000s of items per run) and a split's params never change once resolved.
const chainTables = new WeakMap<StringOpsSplitParams, ChainTable>();

function chainTable(params: StringOpsSplitParams): ChainTable {
  const cached = chainTables.get(params);
  if (cached) return cached;
  const allowed = stringOpsAllowedPairs(params);
  const follows = (first: string, second: string) => allowed.has(`${first}>${second}`);
  // canStart[k - 1] = operations from which a chain of k operations can be built.
  const canStart: Set<StringOpsOperation>[] = [new Set(params.operations)];
  for (let length = 2; length <= params.depth.max; length++) {
    const previous = canStart[canStart.length - 1] ?? new Set();
    canStart.push(new Set(params.operations.filter((op) => params.operations.some((next) => follows(op, next) && previous.has(next)))));
  }
  const table = { follows, canStart };
  chainTables.set(params, table);
  return table;
}

/** A uniformly started chain of `depth` operations in which every adjacent pair is allowed. */
function sampleChain(params: StringOpsSplitParams, depth: number, rng: Rng): StringOpsOperation[] {
  const { follows, canStart } = chainTable(params);
  const chain: StringOpsOperation[] = [];
  for (let remaining = depth; remaining >= 1; remaining--) {
    const reachable = canStart[remaining - 1] ?? new Set();
    const last = chain[chain.length - 1];
    const options = params.operations.filter((op) => reachable.has(op) && (last === undefined || follows(last, op)));
    // The split schema refuses pair sets that cannot make a chain of every depth in range.
    if (options.length === 0) throw new Error(`no chain of ${depth} operations fits these pairs`);
    chain.push(rng.pick(options));
  }
  return chain;
}

function readPrompt(prompt: readonly string[]) {
  const fail = (reason: string) => new MalformedPromptError("string-ops", prompt, reason);
  const [word, operations, ...rest] = splitOn(prompt, WORD_END);
  if (!word || !operations || rest.length > 0) throw fail(`expected one "${WORD_END}"`);
  const tokenSet = (Object.keys(STRING_OPS_ATOMS) as TokenSet[]).find((set) => STRING_OPS_ATOMS[set].includes(word[0] ?? ""));
  if (tokenSet === undefined) throw fail("the word must start with an atom");
  const atoms = STRING_OPS_ATOMS[tokenSet];
  if (!word.every((atom) => atoms.includes(atom))) throw fail("atoms from two token sets");
  if (operations.length === 0) throw fail("no operations");
  if (!operations.every((op): op is StringOpsOperation => (STRING_OPS_OPERATIONS as readonly string[]).includes(op))) {
    throw fail("unknown operation");
  }
  return { word, operations: operations as StringOpsOperation[], tokenSet, atoms };
}

export const stringOps = defineFamily<StringOpsSplitParams>({
  name: "string-ops",
  tokens: [...STRING_OPS_ATOMS.A, ...STRING_OPS_ATOMS.B, ...STRING_OPS_OPERATIONS, WORD_END, STEP],
  paramsSchema: stringOpsSplitParamsSchema,
  sample(params, rng) {
    const atoms = STRING_OPS_ATOMS[params.tokenSet];
    const word = Array.from({ length: rng.int(params.wordLength.min, params.wordLength.max) }, () => rng.pick(atoms));
    const operations = sampleChain(params, rng.int(params.depth.min, params.depth.max), rng);
    const steps: string[][] = [];
    let current = word;
    for (const operation of operations) {
      current = applyOperation(operation, current, atoms);
      steps.push(current);
    }
    return { prompt: [...word, WORD_END, ...operations], chainOfThought: joinWith(steps, STEP), answer: current };
  },
  isCorrect(prompt, answer) {
    const { word, operations, atoms } = readPrompt(prompt);
    const expected = operations.reduce<string[]>((current, operation) => applyOperation(operation, current, atoms), word);
    return arraysEqual(answer, expected);
  },
  measure(prompt) {
    const { word, operations } = readPrompt(prompt);
    return {
      depth: [operations.length],
      length: [word.length],
      representation: [...new Set(word)],
      composition: operations.slice(1).map((second, index) => `${operations[index] ?? ""}>${second}`),
    };
  },
  lengthBound(params) {
    const [word, depth] = [params.wordLength.max, params.depth.max];
    return { prompt: word + 1 + depth, chainOfThought: depth * word + (depth - 1), answer: word };
  },
});
