// A task variant: a task family plus named splits that differ from the in-distribution
// split along exactly one of the paper's four axes, and the mixes that say how each split
// is used. The pretraining mix is the variable the study is about ("overlap").
// The variant is stored as jsonb and sent to runners, so it stays plain JSON.
import { z } from "zod";

export const AXES = ["id", "depth", "length", "representation", "composition"] as const;
export const axisSchema = z.enum(AXES);
export type Axis = z.infer<typeof axisSchema>;
export type OodAxis = Exclude<Axis, "id">;

export const TASK_FAMILIES = ["string-ops", "graph-path", "mod-arith"] as const;
export const taskFamilySchema = z.enum(TASK_FAMILIES);
export type TaskFamilyName = z.infer<typeof taskFamilySchema>;

/** Every family renders its atoms (letters, nodes, digits) in one of two disjoint, equally sized token sets. */
export const TOKEN_SETS = ["A", "B"] as const;
export const tokenSetSchema = z.enum(TOKEN_SETS);
export type TokenSet = z.infer<typeof tokenSetSchema>;

/**
 * Limits keep every split's worst-case sequence well under the 256 positions a model may
 * have, and keep generation feasible (enough nodes for a path, enough room for distractors).
 */
export const TASK_LIMITS = {
  stringOps: { wordLength: { min: 1, max: 12 }, depth: { min: 1, max: 8 } },
  graphPath: { pathLength: { min: 1, max: 7 }, distractorEdges: { min: 0, max: 16 } },
  modArith: { depth: { min: 1, max: 8 }, operandDigits: { min: 1, max: 4 }, modulus: { min: 2, max: 97 } },
  variant: { splits: 8, evalItemsPerSplit: 2000, textLength: 2000 },
} as const;

const intRange = (limits: { min: number; max: number }) =>
  z
    .strictObject({
      min: z.number().int().min(limits.min).max(limits.max),
      max: z.number().int().min(limits.min).max(limits.max),
    })
    .refine((range) => range.min <= range.max, { message: "min must not exceed max", path: ["max"] });
export type IntRange = { min: number; max: number };

// ---------------------------------------------------------------------------------------
// string-ops: a word of L atoms and D operations applied in order.

/** inc/dec shift every atom by ±1 within its token set; rol/ror rotate the word by one; rev reverses; swp swaps adjacent pairs. */
export const STRING_OPS_OPERATIONS = ["inc", "dec", "rol", "ror", "rev", "swp"] as const;
export const stringOpsOperationSchema = z.enum(STRING_OPS_OPERATIONS);
export type StringOpsOperation = z.infer<typeof stringOpsOperationSchema>;

export const stringOpsSplitParamsSchema = z
  .strictObject({
    wordLength: intRange(TASK_LIMITS.stringOps.wordLength),
    depth: intRange(TASK_LIMITS.stringOps.depth),
    tokenSet: tokenSetSchema,
    operations: z.array(stringOpsOperationSchema).min(1).max(STRING_OPS_OPERATIONS.length),
    /** Ordered pairs of operations allowed to follow one another; omitted = every pair of `operations`. */
    pairs: z.array(z.tuple([stringOpsOperationSchema, stringOpsOperationSchema])).min(1).max(36).optional(),
  })
  .superRefine((params, ctx) => {
    if (new Set(params.operations).size !== params.operations.length) {
      ctx.addIssue({ code: "custom", path: ["operations"], message: "operations must not repeat" });
    }
    params.pairs?.forEach(([first, second], index) => {
      for (const [position, operation] of [first, second].entries()) {
        if (!params.operations.includes(operation)) {
          ctx.addIssue({
            code: "custom",
            path: ["pairs", index, position],
            message: `"${operation}" is not one of this split's operations`,
          });
        }
      }
    });
    // A chain's prefixes are chains, so the longest depth is the only one to check. Refinements
    // also run on out-of-range values (already reported), hence the guard on the limit.
    const longest = params.depth.max;
    if (longest <= TASK_LIMITS.stringOps.depth.max && !operationChainExists(params.operations, params.pairs, longest)) {
      ctx.addIssue({
        code: "custom",
        path: ["pairs"],
        message: `no chain of ${longest} operations can be built from these pairs`,
      });
    }
  });
export type StringOpsSplitParams = z.infer<typeof stringOpsSplitParamsSchema>;

/** The ordered operation pairs a string-ops split may produce, as "first>second" keys. */
export function stringOpsAllowedPairs(params: Pick<StringOpsSplitParams, "operations" | "pairs">): Set<string> {
  if (params.pairs) return new Set(params.pairs.map(([first, second]) => `${first}>${second}`));
  return new Set(params.operations.flatMap((first) => params.operations.map((second) => `${first}>${second}`)));
}

function operationChainExists(
  operations: readonly StringOpsOperation[],
  pairs: StringOpsSplitParams["pairs"],
  depth: number,
): boolean {
  const allowed = stringOpsAllowedPairs({ operations: [...operations], pairs });
  // canEnd[op] = a chain of `length` operations can start at op.
  let canStart = new Set<string>(operations);
  for (let length = 2; length <= depth; length++) {
    const next = new Set<string>();
    for (const first of operations) {
      if (operations.some((second) => allowed.has(`${first}>${second}`) && canStart.has(second))) next.add(first);
    }
    canStart = next;
  }
  return canStart.size > 0;
}

// ---------------------------------------------------------------------------------------
// graph-path: a shuffled edge list of a small directed graph, a start and a goal.

/**
 * free: any nodes. within-half: the path stays inside one half of the node tokens, and one
 * bridge edge joins the halves elsewhere. across-bridge: the goal is reachable only by
 * joining a sub-path in the first half, the bridge, and a sub-path in the second half —
 * each kind of sub-path is what within-half items show alone.
 */
export const GRAPH_ROUTES = ["free", "within-half", "across-bridge"] as const;
export const graphRouteSchema = z.enum(GRAPH_ROUTES);
export type GraphRoute = z.infer<typeof graphRouteSchema>;

export const graphPathSplitParamsSchema = z
  .strictObject({
    /** Length (in edges) of the shortest path from start to goal. */
    pathLength: intRange(TASK_LIMITS.graphPath.pathLength),
    /** Edges that are not on the generated path (the bridge counts as one when it is not on the path). */
    distractorEdges: intRange(TASK_LIMITS.graphPath.distractorEdges),
    tokenSet: tokenSetSchema,
    route: graphRouteSchema,
  })
  .superRefine((params, ctx) => {
    if (params.route === "within-half" && params.distractorEdges.min < 1) {
      ctx.addIssue({
        code: "custom",
        path: ["distractorEdges", "min"],
        message: "within-half graphs carry the bridge as a distractor edge, so at least 1 is needed",
      });
    }
  });
export type GraphPathSplitParams = z.infer<typeof graphPathSplitParamsSchema>;

// ---------------------------------------------------------------------------------------
// mod-arith: a chain of operations on numbers modulo p, evaluated left to right.

export const MOD_ARITH_OPERATORS = ["+", "-", "*"] as const;
export const modArithOperatorSchema = z.enum(MOD_ARITH_OPERATORS);
export type ModArithOperator = z.infer<typeof modArithOperatorSchema>;

/** any: no rule. separate: every chain uses a single operator. mixed: every chain uses at least two. */
export const OPERATOR_MIXING = ["any", "separate", "mixed"] as const;
export const operatorMixingSchema = z.enum(OPERATOR_MIXING);

export const modArithSplitParamsSchema = z
  .strictObject({
    /** Number of operations in the chain. */
    depth: intRange(TASK_LIMITS.modArith.depth),
    operandDigits: intRange(TASK_LIMITS.modArith.operandDigits),
    tokenSet: tokenSetSchema,
    modulus: z.number().int().min(TASK_LIMITS.modArith.modulus.min).max(TASK_LIMITS.modArith.modulus.max),
    operators: z.array(modArithOperatorSchema).min(1).max(MOD_ARITH_OPERATORS.length),
    operatorMixing: operatorMixingSchema,
  })
  .superRefine((params, ctx) => {
    if (new Set(params.operators).size !== params.operators.length) {
      ctx.addIssue({ code: "custom", path: ["operators"], message: "operators must not repeat" });
    }
    if (params.operatorMixing === "mixed") {
      if (params.operators.length < 2) {
        ctx.addIssue({ code: "custom", path: ["operators"], message: "mixed chains need at least two operators" });
      }
      if (params.depth.min < 2) {
        ctx.addIssue({ code: "custom", path: ["depth", "min"], message: "mixed chains need at least two operations" });
      }
    }
  });
export type ModArithSplitParams = z.infer<typeof modArithSplitParamsSchema>;

// ---------------------------------------------------------------------------------------
// The variant.

export const splitNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,31}$/, "a split name is 1–32 lowercase letters, digits or dashes, starting with a letter");

const splitSchema = <P extends z.ZodType>(params: P) =>
  z.strictObject({ name: splitNameSchema, axis: axisSchema, params });

/** Weights over split names; normalised when drawn, so only their ratios matter. */
export const splitMixSchema = z.record(splitNameSchema, z.number().min(0).max(1_000_000));

const variantFields = {
  slug: z
    .string()
    .min(3)
    .max(64)
    .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, "a slug is lowercase letters and digits separated by single dashes"),
  name: z.string().trim().min(1).max(120),
  description: z.string().max(TASK_LIMITS.variant.textLength).default(""),
  /** Sampling weights over splits for pretraining: 100% id is "zero overlap". */
  pretrainingMix: splitMixSchema,
  /** Sampling weights over splits for GRPO prompts. */
  grpoMix: splitMixSchema,
  /** Whether training sequences (and reference completions) carry the chain of thought. */
  chainOfThought: z.boolean().default(true),
  evalSplits: z.array(splitNameSchema).min(1).max(TASK_LIMITS.variant.splits),
  evalItemsPerSplit: z.number().int().min(1).max(TASK_LIMITS.variant.evalItemsPerSplit).default(64),
};
const splitsOf = <P extends z.ZodType>(params: P) =>
  z.array(splitSchema(params)).min(2).max(TASK_LIMITS.variant.splits);

const stringOpsVariantSchema = z.strictObject({
  ...variantFields,
  family: z.literal("string-ops"),
  splits: splitsOf(stringOpsSplitParamsSchema),
});
const graphPathVariantSchema = z.strictObject({
  ...variantFields,
  family: z.literal("graph-path"),
  splits: splitsOf(graphPathSplitParamsSchema),
});
const modArithVariantSchema = z.strictObject({
  ...variantFields,
  family: z.literal("mod-arith"),
  splits: splitsOf(modArithSplitParamsSchema),
});

type Issue = { path: (string | number)[]; message: string };

export const taskVariantSchema = z
  .discriminatedUnion("family", [stringOpsVariantSchema, graphPathVariantSchema, modArithVariantSchema], {
    error: (issue) =>
      issue.code === "invalid_union"
        ? `unknown task family; expected one of ${TASK_FAMILIES.map((family) => `"${family}"`).join(", ")}`
        : undefined,
  })
  .superRefine((variant, ctx) => {
    for (const issue of variantIssues(variant)) ctx.addIssue({ code: "custom", ...issue });
  });

export type TaskVariant = z.infer<typeof taskVariantSchema>;
export type TaskVariantInput = z.input<typeof taskVariantSchema>;
export type TaskSplit = TaskVariant["splits"][number];
export type StringOpsVariant = z.infer<typeof stringOpsVariantSchema>;
export type GraphPathVariant = z.infer<typeof graphPathVariantSchema>;
export type ModArithVariant = z.infer<typeof modArithVariantSchema>;

/** Cross-field rules: unique split names, one id split, each OOD split differs from id on its axis only, mixes name real splits. */
function variantIssues(variant: TaskVariant): Issue[] {
  const issues: Issue[] = [];
  const names = variant.splits.map((split) => split.name);
  variant.splits.forEach((split, index) => {
    if (names.indexOf(split.name) !== index) {
      issues.push({ path: ["splits", index, "name"], message: `split name "${split.name}" is used twice` });
    }
  });
  const idIndexes = variant.splits.flatMap((split, index) => (split.axis === "id" ? [index] : []));
  if (idIndexes.length !== 1) {
    issues.push({
      path: ["splits"],
      message: `exactly one split must have axis "id" (found ${idIndexes.length}); OOD splits are defined against it`,
    });
  }
  const idIndex = idIndexes[0];
  if (idIndexes.length === 1 && idIndex !== undefined) {
    variant.splits.forEach((split, index) => {
      if (index === idIndex || split.axis === "id") return;
      for (const issue of compareToId(variant, idIndex, index)) {
        issues.push({ path: ["splits", index, "params", ...issue.path], message: issue.message });
      }
    });
  }
  for (const mixName of ["pretrainingMix", "grpoMix"] as const) {
    const mix = variant[mixName];
    let total = 0;
    for (const [splitName, weight] of Object.entries(mix)) {
      total += weight;
      if (!names.includes(splitName)) {
        issues.push({ path: [mixName, splitName], message: `"${splitName}" is not a split of this variant` });
      }
    }
    if (!(total > 0)) issues.push({ path: [mixName], message: "weights must sum to more than 0" });
  }
  variant.evalSplits.forEach((splitName, index) => {
    if (!names.includes(splitName)) {
      issues.push({ path: ["evalSplits", index], message: `"${splitName}" is not a split of this variant` });
    } else if (variant.evalSplits.indexOf(splitName) !== index) {
      issues.push({ path: ["evalSplits", index], message: `"${splitName}" is listed twice` });
    }
  });
  return issues;
}

const showRange = (range: IntRange) => (range.min === range.max ? `${range.min}` : `${range.min}–${range.max}`);
const rangesOverlap = (a: IntRange, b: IntRange) => a.min <= b.max && b.min <= a.max;
const rangeWithin = (inner: IntRange, outer: IntRange) => inner.min >= outer.min && inner.max <= outer.max;

/**
 * How one split's parameters project onto the four axes of its family. `own` says how an
 * OOD split must differ from id on its axis; `other` how it must match id on the others.
 */
type AxisRule<P> = {
  field: keyof P & string;
  own: (ood: P, id: P) => string | undefined;
  other: (ood: P, id: P) => string | undefined;
};

function rangeRule<P>(field: keyof P & string, read: (params: P) => IntRange): AxisRule<P> {
  return {
    field,
    own: (ood, id) =>
      rangesOverlap(read(ood), read(id))
        ? `${field} ${showRange(read(ood))} overlaps id's ${showRange(read(id))}; it must lie outside it`
        : undefined,
    other: (ood, id) =>
      rangeWithin(read(ood), read(id))
        ? undefined
        : `${field} ${showRange(read(ood))} must lie within id's ${showRange(read(id))}`,
  };
}

function tokenSetRule<P extends { tokenSet: TokenSet }>(): AxisRule<P> {
  return {
    field: "tokenSet",
    own: (ood, id) =>
      ood.tokenSet === id.tokenSet
        ? `token set "${ood.tokenSet}" is the one id uses; a representation split must use tokens id never shows`
        : undefined,
    other: (ood, id) =>
      ood.tokenSet === id.tokenSet ? undefined : `token set "${ood.tokenSet}" must be id's "${id.tokenSet}"`,
  };
}

const stringOpsRules: Record<OodAxis, AxisRule<StringOpsSplitParams>> = {
  depth: rangeRule("depth", (params) => params.depth),
  length: rangeRule("wordLength", (params) => params.wordLength),
  representation: tokenSetRule(),
  composition: {
    field: "pairs",
    own: (ood, id) => {
      if (!ood.pairs) return "a composition split must list its held-out operation pairs";
      const idPairs = stringOpsAllowedPairs(id);
      const seen = [...stringOpsAllowedPairs(ood)].filter((pair) => idPairs.has(pair));
      if (seen.length > 0) return `pairs ${seen.join(", ")} also occur in id; held-out pairs must be unseen`;
      const unseen = ood.operations.filter((operation) => !id.operations.includes(operation));
      if (unseen.length > 0) return `operations ${unseen.join(", ")} never occur in id; only their pairing may be new`;
      if (ood.depth.min < 2) return "a composition split needs depth ≥ 2 so every item contains a held-out pair";
      return undefined;
    },
    other: (ood, id) => {
      const idPairs = stringOpsAllowedPairs(id);
      const extra = [...stringOpsAllowedPairs(ood)].filter((pair) => !idPairs.has(pair));
      return extra.length > 0 ? `pairs ${extra.join(", ")} do not occur in id` : undefined;
    },
  },
};

const graphPathRules: Record<OodAxis, AxisRule<GraphPathSplitParams>> = {
  depth: rangeRule("pathLength", (params) => params.pathLength),
  length: rangeRule("distractorEdges", (params) => params.distractorEdges),
  representation: tokenSetRule(),
  composition: {
    field: "route",
    own: (ood, id) =>
      id.route === "within-half" && ood.route === "across-bridge"
        ? undefined
        : `a composition split needs route "across-bridge" against an id route "within-half" (got "${ood.route}" against "${id.route}")`,
    other: (ood, id) => (ood.route === id.route ? undefined : `route "${ood.route}" must be id's "${id.route}"`),
  },
};

const modArithRules: Record<OodAxis, AxisRule<ModArithSplitParams>> = {
  depth: rangeRule("depth", (params) => params.depth),
  length: rangeRule("operandDigits", (params) => params.operandDigits),
  representation: tokenSetRule(),
  composition: {
    field: "operatorMixing",
    own: (ood, id) => {
      if (id.operatorMixing !== "separate" || ood.operatorMixing !== "mixed") {
        return `a composition split needs operatorMixing "mixed" against an id "separate" (got "${ood.operatorMixing}" against "${id.operatorMixing}")`;
      }
      const unseen = ood.operators.filter((operator) => !id.operators.includes(operator));
      return unseen.length > 0 ? `operators ${unseen.join(" ")} never occur in id; only their mixing may be new` : undefined;
    },
    other: (ood, id) => {
      if (ood.operatorMixing !== id.operatorMixing) {
        return `operatorMixing "${ood.operatorMixing}" must be id's "${id.operatorMixing}"`;
      }
      const same = ood.operators.length === id.operators.length && ood.operators.every((op) => id.operators.includes(op));
      return same ? undefined : `operators ${ood.operators.join(" ")} must be id's ${id.operators.join(" ")}`;
    },
  },
};

function applyRules<P>(rules: Record<OodAxis, AxisRule<P>>, axis: OodAxis, ood: P, id: P): Issue[] {
  const issues: Issue[] = [];
  for (const [ruleAxis, rule] of Object.entries(rules) as [OodAxis, AxisRule<P>][]) {
    const message = ruleAxis === axis ? rule.own(ood, id) : rule.other(ood, id);
    if (message === undefined) continue;
    const prefix = ruleAxis === axis ? `a ${axis} split must differ from id on ${axis}` : `a ${axis} split may differ from id only on ${axis}`;
    issues.push({ path: [rule.field], message: `${prefix}: ${message}` });
  }
  return issues;
}

function compareToId(variant: TaskVariant, idIndex: number, oodIndex: number): Issue[] {
  switch (variant.family) {
    case "string-ops": {
      const [id, ood] = [variant.splits[idIndex], variant.splits[oodIndex]];
      if (!id || !ood || ood.axis === "id") return [];
      const issues = applyRules(stringOpsRules, ood.axis, ood.params, id.params);
      // Operations themselves are not an axis: an OOD split may only use operations id shows.
      const unseen = ood.params.operations.filter((operation) => !id.params.operations.includes(operation));
      if (unseen.length > 0 && ood.axis !== "composition") {
        issues.push({ path: ["operations"], message: `operations ${unseen.join(", ")} never occur in id` });
      }
      return issues;
    }
    case "graph-path": {
      const [id, ood] = [variant.splits[idIndex], variant.splits[oodIndex]];
      if (!id || !ood || ood.axis === "id") return [];
      return applyRules(graphPathRules, ood.axis, ood.params, id.params);
    }
    case "mod-arith": {
      const [id, ood] = [variant.splits[idIndex], variant.splits[oodIndex]];
      if (!id || !ood || ood.axis === "id") return [];
      const issues = applyRules(modArithRules, ood.axis, ood.params, id.params);
      // The modulus is the task itself, not an axis: every split must share it.
      if (ood.params.modulus !== id.params.modulus) {
        issues.push({ path: ["modulus"], message: `modulus ${ood.params.modulus} must be id's ${id.params.modulus}` });
      }
      return issues;
    }
  }
}

/** One human-readable line per problem, each led by its field path (e.g. `splits.1.params.depth.max: …`). */
export function describeIssues(error: z.ZodError): string[] {
  const line = (path: PropertyKey[], message: string) =>
    path.length > 0 ? `${path.map(String).join(".")}: ${message}` : message;
  return error.issues.flatMap((issue) =>
    // A misspelt field is the commonest mistake in a hand-written variant file: name it in the path.
    issue.code === "unrecognized_keys"
      ? issue.keys.map((key) => line([...issue.path, key], "unknown field"))
      : issue.code === "invalid_type" && issue.message.endsWith("received undefined")
        ? [line(issue.path, `required (${issue.expected})`)]
        : [line(issue.path, issue.message)],
  );
}

export type ParsedTaskVariant = { ok: true; variant: TaskVariant } | { ok: false; problems: string[] };

/** Validate untrusted input as a task variant, returning either the variant or one message per problem. */
export function parseTaskVariant(input: unknown): ParsedTaskVariant {
  const result = taskVariantSchema.safeParse(input);
  return result.success ? { ok: true, variant: result.data } : { ok: false, problems: describeIssues(result.error) };
}
