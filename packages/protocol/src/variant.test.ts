import { describe, expect, it } from "vitest";
import { parseTaskVariant, taskVariantSchema, type TaskVariantInput } from "./variant";

const stringOpsId = {
  wordLength: { min: 3, max: 5 },
  depth: { min: 1, max: 3 },
  tokenSet: "A",
  operations: ["inc", "dec", "rol", "ror", "rev", "swp"],
} as const;

function stringOpsVariant(ood: { axis: string; params: object }, overrides: object = {}): unknown {
  return {
    slug: "my-variant",
    name: "My variant",
    family: "string-ops",
    splits: [
      { name: "id", axis: "id", params: stringOpsId },
      { name: "ood", ...ood },
    ],
    pretrainingMix: { id: 1 },
    grpoMix: { id: 1, ood: 1 },
    evalSplits: ["id", "ood"],
    ...overrides,
  };
}

function problems(input: unknown): string[] {
  const result = parseTaskVariant(input);
  return result.ok ? [] : result.problems;
}

describe("taskVariantSchema", () => {
  it("accepts a valid variant and fills defaults", () => {
    const result = parseTaskVariant(stringOpsVariant({ axis: "depth", params: { ...stringOpsId, depth: { min: 4, max: 5 } } }));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.variant.chainOfThought).toBe(true);
    expect(result.variant.evalItemsPerSplit).toBe(64);
    expect(result.variant.description).toBe("");
    expect(JSON.parse(JSON.stringify(result.variant))).toEqual(result.variant);
  });

  it("names an unknown family", () => {
    expect(problems({ ...(stringOpsVariant({ axis: "depth", params: {} }) as object), family: "chess" })).toEqual([
      'family: unknown task family; expected one of "string-ops", "graph-path", "mod-arith"',
    ]);
  });

  it("gives one message per problem, each with its field path", () => {
    const found = problems(
      stringOpsVariant(
        { axis: "depth", params: { ...stringOpsId, depth: { min: 4, max: 99 }, tokenSet: "Z", colour: "red" } },
        { pretrainingMix: { id: 1, nope: 1 }, evalSplits: ["id", "missing"], evalItemsPerSplit: 0 },
      ),
    );
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^splits\.1\.params\.depth\.max: /),
        expect.stringMatching(/^splits\.1\.params\.tokenSet: /),
        "splits.1.params.colour: unknown field",
        expect.stringMatching(/^evalItemsPerSplit: /),
      ]),
    );
    expect(found).toHaveLength(4);
  });

  it("checks cross-field rules once the fields themselves are valid", () => {
    expect(
      problems(
        stringOpsVariant(
          { axis: "depth", params: { ...stringOpsId, depth: { min: 4, max: 5 } } },
          { pretrainingMix: { id: 1, nope: 1 }, grpoMix: { id: 0 }, evalSplits: ["id", "missing", "id"] },
        ),
      ),
    ).toEqual([
      'pretrainingMix.nope: "nope" is not a split of this variant',
      "grpoMix: weights must sum to more than 0",
      'evalSplits.1: "missing" is not a split of this variant',
      'evalSplits.2: "id" is listed twice',
    ]);
  });

  it("refuses an OOD split that does not differ from id on its axis", () => {
    expect(problems(stringOpsVariant({ axis: "depth", params: { ...stringOpsId, depth: { min: 3, max: 5 } } }))).toEqual([
      "splits.1.params.depth: a depth split must differ from id on depth: depth 3–5 overlaps id's 1–3; it must lie outside it",
    ]);
    expect(problems(stringOpsVariant({ axis: "length", params: stringOpsId }))).toEqual([
      expect.stringMatching(/^splits\.1\.params\.wordLength: a length split must differ from id on length/),
    ]);
  });

  it("refuses an OOD split that also differs on another axis", () => {
    expect(
      problems(
        stringOpsVariant({ axis: "depth", params: { ...stringOpsId, depth: { min: 4, max: 5 }, wordLength: { min: 3, max: 9 } } }),
      ),
    ).toEqual([
      "splits.1.params.wordLength: a depth split may differ from id only on depth: wordLength 3–9 must lie within id's 3–5",
    ]);
  });

  it("refuses a representation split that shares tokens with id", () => {
    expect(problems(stringOpsVariant({ axis: "representation", params: stringOpsId }))).toEqual([
      expect.stringMatching(/^splits\.1\.params\.tokenSet: a representation split must differ from id on representation: token set "A"/),
    ]);
    expect(problems(stringOpsVariant({ axis: "representation", params: { ...stringOpsId, tokenSet: "B" } }))).toEqual([]);
  });

  it("checks composition splits hold out pairs of operations id shows alone", () => {
    const heldOut = [
      ["inc", "rev"],
      ["rev", "inc"],
    ];
    const id = { ...stringOpsId, operations: ["inc", "rev", "rol"], pairs: [["inc", "rol"], ["rol", "rev"], ["rev", "rol"], ["rol", "inc"]] };
    const variant = (params: object) => ({
      ...(stringOpsVariant({ axis: "composition", params }) as { splits: object[] }),
      splits: [
        { name: "id", axis: "id", params: id },
        { name: "ood", axis: "composition", params },
      ],
    });
    const ood = { ...stringOpsId, depth: { min: 2, max: 3 }, operations: ["inc", "rev"], pairs: heldOut };
    expect(problems(variant(ood))).toEqual([]);
    expect(problems(variant({ ...ood, pairs: [["inc", "rol"], ["rol", "inc"]], operations: ["inc", "rol"] }))).toEqual([
      expect.stringMatching(/^splits\.1\.params\.pairs: .*inc>rol, rol>inc also occur in id/),
    ]);
    expect(problems(variant({ ...ood, depth: { min: 1, max: 3 } }))).toEqual([
      expect.stringMatching(/^splits\.1\.params\.pairs: .*needs depth ≥ 2/),
    ]);
    expect(problems(variant({ ...ood, operations: ["inc", "swp"], pairs: [["inc", "swp"], ["swp", "inc"]] }))).toEqual([
      expect.stringMatching(/^splits\.1\.params\.pairs: .*operations swp never occur in id/),
    ]);
  });

  it("refuses pair sets that cannot build a chain of the split's depth", () => {
    expect(
      problems(stringOpsVariant({ axis: "depth", params: { ...stringOpsId, depth: { min: 4, max: 5 }, pairs: [["inc", "rev"]] } })),
    ).toEqual(
      expect.arrayContaining([
        "splits.1.params.pairs: no chain of 5 operations can be built from these pairs",
      ]),
    );
  });

  it("answers at once for absurd values, reporting the limit", () => {
    expect(problems(stringOpsVariant({ axis: "depth", params: { ...stringOpsId, depth: { min: 4, max: 1e9 } } }))).toEqual([
      "splits.1.params.depth.max: Too big: expected number to be <=8",
    ]);
  });

  it("needs exactly one id split and unique split names", () => {
    const twoIds = {
      ...(stringOpsVariant({ axis: "id", params: stringOpsId }) as object),
      evalSplits: ["id"],
      grpoMix: { id: 1 },
    };
    expect(problems(twoIds)).toEqual(['splits: exactly one split must have axis "id" (found 2); OOD splits are defined against it']);
    const sameName = stringOpsVariant({ axis: "representation", params: { ...stringOpsId, tokenSet: "B" } }) as {
      splits: { name: string }[];
    };
    sameName.splits[1] = { ...sameName.splits[1], name: "id" };
    expect(problems(sameName)).toContain('splits.1.name: split name "id" is used twice');
  });

  it("validates graph-path and mod-arith splits on their own axes", () => {
    const graphId = { pathLength: { min: 2, max: 3 }, distractorEdges: { min: 2, max: 4 }, tokenSet: "A", route: "free" };
    const graph = (ood: object, id: object = graphId): TaskVariantInput =>
      ({
        slug: "graphs",
        name: "Graphs",
        family: "graph-path",
        splits: [
          { name: "id", axis: "id", params: id },
          { name: "ood", ...ood },
        ],
        pretrainingMix: { id: 1 },
        grpoMix: { ood: 1 },
        evalSplits: ["ood"],
      }) as TaskVariantInput;
    expect(taskVariantSchema.safeParse(graph({ axis: "length", params: { ...graphId, distractorEdges: { min: 6, max: 8 } } })).success).toBe(true);
    expect(problems(graph({ axis: "composition", params: { ...graphId, route: "across-bridge" } }))).toEqual([
      expect.stringMatching(/^splits\.1\.params\.route: a composition split must differ from id on composition/),
    ]);
    expect(
      problems(graph({ axis: "composition", params: { ...graphId, route: "across-bridge" } }, { ...graphId, route: "within-half" })),
    ).toEqual([]);
    expect(problems(graph({ axis: "depth", params: { ...graphId, pathLength: { min: 4, max: 40 } } }))).toEqual([
      expect.stringMatching(/^splits\.1\.params\.pathLength\.max: /),
    ]);

    const arithId = { depth: { min: 1, max: 3 }, operandDigits: { min: 1, max: 1 }, tokenSet: "A", modulus: 7, operators: ["+", "*"], operatorMixing: "separate" };
    const arith = (ood: object): TaskVariantInput =>
      ({
        ...graph(ood),
        family: "mod-arith",
        splits: [
          { name: "id", axis: "id", params: arithId },
          { name: "ood", ...ood },
        ],
      }) as TaskVariantInput;
    expect(problems(arith({ axis: "composition", params: { ...arithId, depth: { min: 2, max: 3 }, operatorMixing: "mixed" } }))).toEqual([]);
    expect(problems(arith({ axis: "composition", params: { ...arithId, operatorMixing: "mixed" } }))).toEqual([
      "splits.1.params.depth.min: mixed chains need at least two operations",
    ]);
    expect(problems(arith({ axis: "representation", params: { ...arithId, tokenSet: "B", modulus: 11 } }))).toEqual([
      "splits.1.params.modulus: modulus 11 must be id's 7",
    ]);
  });

  it("says which required fields are missing", () => {
    expect(problems({ family: "mod-arith" })).toEqual([
      "slug: required (string)",
      "name: required (string)",
      "pretrainingMix: required (record)",
      "grpoMix: required (record)",
      "evalSplits: required (array)",
      "splits: required (array)",
    ]);
  });

  it("refuses input that is not an object", () => {
    expect(problems("hello")).toEqual(["Invalid input: expected object, received string"]);
  });
});
