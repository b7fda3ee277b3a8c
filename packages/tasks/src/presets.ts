// The paper's four experiments at CPU scale: for each family and each axis, a variant whose
// pretraining never shows the OOD split ("zero" overlap) and one where 5% of pretraining comes
// from it ("partial"). ID items stay under 64 tokens so a tiny model learns them in minutes;
// OOD items stay under 128.
import {
  STRING_OPS_OPERATIONS,
  taskVariantSchema,
  type GraphPathSplitParams,
  type ModArithSplitParams,
  type OodAxis,
  type StringOpsOperation,
  type StringOpsSplitParams,
  type TaskFamilyName,
  type TaskVariant,
  type TaskVariantInput,
} from "@transcend/protocol";

export const OVERLAPS = {
  zero: { id: 1 },
  partial: { id: 0.95, ood: 0.05 },
} as const satisfies Record<string, Record<string, number>>;
export type Overlap = keyof typeof OVERLAPS;

const OOD_AXES: readonly OodAxis[] = ["depth", "length", "representation", "composition"];

// string-ops: composition holds out every ordered pair of distinct operations among inc, rev
// and swp; each of the three still occurs in id, next to the other operations.
const HELD_OUT_OPERATIONS: readonly StringOpsOperation[] = ["inc", "rev", "swp"];
const heldOutPairs = HELD_OUT_OPERATIONS.flatMap((first) =>
  HELD_OUT_OPERATIONS.filter((second) => second !== first).map((second): [StringOpsOperation, StringOpsOperation] => [first, second]),
);
const isHeldOut = ([first, second]: readonly [string, string]) =>
  heldOutPairs.some(([a, b]) => a === first && b === second);
const allPairs = STRING_OPS_OPERATIONS.flatMap((first) =>
  STRING_OPS_OPERATIONS.map((second): [StringOpsOperation, StringOpsOperation] => [first, second]),
);

const stringOpsId: StringOpsSplitParams = {
  wordLength: { min: 3, max: 5 },
  depth: { min: 1, max: 3 },
  tokenSet: "A",
  operations: [...STRING_OPS_OPERATIONS],
};
const stringOpsSplits: Record<OodAxis, { id: StringOpsSplitParams; ood: StringOpsSplitParams }> = {
  depth: { id: stringOpsId, ood: { ...stringOpsId, depth: { min: 4, max: 5 } } },
  length: { id: stringOpsId, ood: { ...stringOpsId, wordLength: { min: 6, max: 7 } } },
  representation: { id: stringOpsId, ood: { ...stringOpsId, tokenSet: "B" } },
  composition: {
    id: { ...stringOpsId, pairs: allPairs.filter((pair) => !isHeldOut(pair)) },
    ood: { ...stringOpsId, depth: { min: 2, max: 3 }, operations: [...HELD_OUT_OPERATIONS], pairs: heldOutPairs },
  },
};

const graphPathId: GraphPathSplitParams = {
  pathLength: { min: 2, max: 3 },
  distractorEdges: { min: 2, max: 4 },
  tokenSet: "A",
  route: "free",
};
const graphPathSplits: Record<OodAxis, { id: GraphPathSplitParams; ood: GraphPathSplitParams }> = {
  depth: { id: graphPathId, ood: { ...graphPathId, pathLength: { min: 4, max: 5 } } },
  length: { id: graphPathId, ood: { ...graphPathId, distractorEdges: { min: 6, max: 8 } } },
  representation: { id: graphPathId, ood: { ...graphPathId, tokenSet: "B" } },
  composition: {
    id: { ...graphPathId, route: "within-half" },
    ood: { ...graphPathId, route: "across-bridge" },
  },
};

const modArithId: ModArithSplitParams = {
  depth: { min: 1, max: 3 },
  operandDigits: { min: 1, max: 1 },
  tokenSet: "A",
  modulus: 7,
  operators: ["+", "-", "*"],
  operatorMixing: "any",
};
const modArithSplits: Record<OodAxis, { id: ModArithSplitParams; ood: ModArithSplitParams }> = {
  depth: { id: modArithId, ood: { ...modArithId, depth: { min: 4, max: 5 } } },
  length: { id: modArithId, ood: { ...modArithId, operandDigits: { min: 2, max: 2 } } },
  representation: { id: modArithId, ood: { ...modArithId, tokenSet: "B" } },
  composition: {
    id: { ...modArithId, operatorMixing: "separate" },
    ood: { ...modArithId, depth: { min: 2, max: 3 }, operatorMixing: "mixed" },
  },
};

const AXIS_WORDS: Record<OodAxis, string> = {
  depth: "more reasoning steps",
  length: "longer inputs",
  representation: "the same task written in tokens of another set",
  composition: "", // said per family below: what is composed differs
};
const COMPOSITION_WORDS: Record<TaskFamilyName, string> = {
  "string-ops": "ordered pairs of operations seen only apart",
  "graph-path": "paths that join two halves of the graph through its bridge, each half seen alone",
  "mod-arith": "chains mixing operators seen only in separate chains",
};
const FAMILY_WORDS: Record<TaskFamilyName, string> = {
  "string-ops": "String operations",
  "graph-path": "Graph paths",
  "mod-arith": "Modular arithmetic",
};

function preset(family: TaskFamilyName, axis: OodAxis, overlap: Overlap, splits: { id: unknown; ood: unknown }): TaskVariant {
  const input = {
    slug: `${family}-${axis}-${overlap}`,
    name: `${FAMILY_WORDS[family]} · ${axis} · ${overlap} overlap`,
    description:
      `OOD split: ${axis === "composition" ? COMPOSITION_WORDS[family] : AXIS_WORDS[axis]}. ` +
      (overlap === "zero"
        ? "Pretraining sees only the ID split."
        : "5% of pretraining comes from the OOD split."),
    family,
    splits: [
      { name: "id", axis: "id", params: splits.id },
      { name: "ood", axis, params: splits.ood },
    ],
    pretrainingMix: { ...OVERLAPS[overlap] },
    // GRPO prompts from both splits: the ID half shows the saturation effect, the OOD half
    // whether reweighting can reach what pretraining left at zero correct mass.
    grpoMix: { id: 0.5, ood: 0.5 },
    chainOfThought: true,
    evalSplits: ["id", "ood"],
    evalItemsPerSplit: 64,
  } as TaskVariantInput;
  // Parsed at load: a preset that breaks the schema's rules fails every test at once.
  return taskVariantSchema.parse(input);
}

const SPLITS_BY_FAMILY: Record<TaskFamilyName, Record<OodAxis, { id: unknown; ood: unknown }>> = {
  "string-ops": stringOpsSplits,
  "graph-path": graphPathSplits,
  "mod-arith": modArithSplits,
};

export const presets: readonly TaskVariant[] = (Object.keys(SPLITS_BY_FAMILY) as TaskFamilyName[]).flatMap((family) =>
  OOD_AXES.flatMap((axis) =>
    (Object.keys(OVERLAPS) as Overlap[]).map((overlap) => preset(family, axis, overlap, SPLITS_BY_FAMILY[family][axis])),
  ),
);

export function findPreset(slug: string): TaskVariant | undefined {
  return presets.find((variant) => variant.slug === slug);
}
