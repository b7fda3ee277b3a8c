// mod-arith: a chain of operations on numbers modulo p, evaluated left to right. Prompt
// `1 2 + 5 * 6 % 7` (the modulus follows `%`, so the prompt alone defines the answer), chain
// of thought `5 ; 3 ; 4` (the running value, starting from the first operand reduced), answer `4`.
import {
  MOD_ARITH_OPERATORS,
  modArithSplitParamsSchema,
  type ModArithOperator,
  type ModArithSplitParams,
  type TokenSet,
} from "@transcend/protocol";
import { MalformedPromptError, arraysEqual, defineFamily, joinWith } from "../family";
import type { Rng } from "../types";

/** Two disjoint digit alphabets: `0`–`9`, and `a`–`j` standing for 0–9. */
export const MOD_ARITH_DIGITS: Record<TokenSet, readonly string[]> = {
  A: "0123456789".split(""),
  B: "abcdefghij".split(""),
};
const MODULUS = "%";
const STEP = ";";

const render = (value: number, digits: readonly string[]) =>
  String(value)
    .split("")
    .map((digit) => digits[Number(digit)] ?? "");

function apply(operator: ModArithOperator, left: number, right: number, modulus: number): number {
  const raw = operator === "+" ? left + right : operator === "-" ? left - right : left * (right % modulus);
  return ((raw % modulus) + modulus) % modulus;
}

function sampleOperators(params: ModArithSplitParams, depth: number, rng: Rng): ModArithOperator[] {
  switch (params.operatorMixing) {
    case "any":
      return Array.from({ length: depth }, () => rng.pick(params.operators));
    case "separate": {
      const operator = rng.pick(params.operators);
      return Array.from({ length: depth }, () => operator);
    }
    case "mixed":
      // Rejection keeps the draw uniform over chains with ≥ 2 operators; with ≥ 2 operators and
      // depth ≥ 2 (the schema's rule) a draw is accepted with probability ≥ 1/2.
      for (;;) {
        const operators = Array.from({ length: depth }, () => rng.pick(params.operators));
        if (new Set(operators).size >= 2) return operators;
      }
  }
}

function readPrompt(prompt: readonly string[]) {
  const fail = (reason: string) => new MalformedPromptError("mod-arith", prompt, reason);
  const marker = prompt.indexOf(MODULUS);
  if (marker < 1 || prompt.lastIndexOf(MODULUS) !== marker) throw fail(`expected one "${MODULUS}" after the chain`);
  const tokenSet = (Object.keys(MOD_ARITH_DIGITS) as TokenSet[]).find((set) => MOD_ARITH_DIGITS[set].includes(prompt[0] ?? ""));
  if (tokenSet === undefined) throw fail("the chain must start with a digit");
  const digits = MOD_ARITH_DIGITS[tokenSet];
  const readNumber = (tokens: readonly string[]) => {
    if (tokens.length === 0 || !tokens.every((token) => digits.includes(token))) throw fail("a number is not digits of one set");
    return { value: Number(tokens.map((token) => digits.indexOf(token)).join("")), digits: tokens.length };
  };
  const operands: { value: number; digits: number }[] = [];
  const operators: ModArithOperator[] = [];
  let current: string[] = [];
  for (const token of prompt.slice(0, marker)) {
    if ((MOD_ARITH_OPERATORS as readonly string[]).includes(token)) {
      operands.push(readNumber(current));
      operators.push(token as ModArithOperator);
      current = [];
    } else current.push(token);
  }
  operands.push(readNumber(current));
  const modulus = readNumber(prompt.slice(marker + 1)).value;
  if (modulus < 2) throw fail("modulus below 2");
  return { operands, operators, modulus, digits };
}

/** The running values, first operand reduced first; the last one is the answer. */
function runningValues(operands: readonly number[], operators: readonly ModArithOperator[], modulus: number): number[] {
  const values = [(operands[0] ?? 0) % modulus];
  operators.forEach((operator, index) => {
    values.push(apply(operator, values[values.length - 1] ?? 0, operands[index + 1] ?? 0, modulus));
  });
  return values;
}

export const modArith = defineFamily<ModArithSplitParams>({
  name: "mod-arith",
  tokens: [...MOD_ARITH_DIGITS.A, ...MOD_ARITH_DIGITS.B, ...MOD_ARITH_OPERATORS, MODULUS, STEP],
  paramsSchema: modArithSplitParamsSchema,
  sample(params, rng) {
    const digits = MOD_ARITH_DIGITS[params.tokenSet];
    const depth = rng.int(params.depth.min, params.depth.max);
    const operators = sampleOperators(params, depth, rng);
    const operands = Array.from({ length: depth + 1 }, () => {
      const length = rng.int(params.operandDigits.min, params.operandDigits.max);
      // Exactly `length` digits, no leading zero (a single digit may be 0).
      return length === 1 ? rng.int(0, 9) : rng.int(10 ** (length - 1), 10 ** length - 1);
    });
    const values = runningValues(operands, operators, params.modulus);
    const chain = operands.flatMap((operand, index) => {
      const operator = operators[index - 1];
      return operator === undefined ? render(operand, digits) : [operator, ...render(operand, digits)];
    });
    return {
      prompt: [...chain, MODULUS, ...render(params.modulus, digits)],
      chainOfThought: joinWith(values.map((value) => render(value, digits)), STEP),
      answer: render(values[values.length - 1] ?? 0, digits),
    };
  },
  isCorrect(prompt, answer) {
    const { operands, operators, modulus, digits } = readPrompt(prompt);
    const values = runningValues(operands.map((operand) => operand.value), operators, modulus);
    // Only the canonical numeral counts: "0 4" is not "4".
    return arraysEqual(answer, render(values[values.length - 1] ?? 0, digits));
  },
  measure(prompt) {
    const { operands, operators, digits } = readPrompt(prompt);
    return {
      depth: [operators.length],
      length: [...new Set(operands.map((operand) => operand.digits))],
      representation: [...new Set(prompt.filter((token) => digits.includes(token)))],
      composition: [[...new Set(operators)].sort().join("")],
    };
  },
  lengthBound(params) {
    const [depth, operandDigits] = [params.depth.max, params.operandDigits.max];
    const valueDigits = String(params.modulus - 1).length;
    return {
      prompt: (depth + 1) * operandDigits + depth + 1 + String(params.modulus).length,
      chainOfThought: (depth + 1) * valueDigits + depth,
      answer: valueDigits,
    };
  },
});
