import { recipeSchema } from "@transcend/protocol";
import { describe, expect, it } from "vitest";
import { SECTIONS, fieldsOf, labelOf, limitText, parseIntegerList, presetValues } from "./fields";

describe("the recipe form's fields come from recipeSchema", () => {
  it("covers every field of every section with a description", () => {
    for (const section of SECTIONS) {
      const fields = fieldsOf(section.key);
      expect(fields.map((field) => field.key)).toEqual(Object.keys(section.schema.shape));
      for (const field of fields) expect(field.description, field.path).not.toBe("");
    }
  });

  it("reads kinds, limits and optionality", () => {
    const model = Object.fromEntries(fieldsOf("model").map((field) => [field.key, field]));
    expect(model.layers).toMatchObject({ kind: "integer", min: 1, max: 12, unit: "blocks", optional: false });
    expect(model.dropout).toMatchObject({ kind: "number", min: 0, max: 0.5 });
    expect(model.positionalEncoding).toMatchObject({ kind: "choice", options: ["learned", "rope", "none"] });
    const evaluation = Object.fromEntries(fieldsOf("evaluation").map((field) => [field.key, field]));
    expect(evaluation.itemsPerSplit).toMatchObject({ kind: "integer", optional: true, min: 1, max: 5000 });
    expect(evaluation.kValues).toMatchObject({ kind: "integer-list", min: 1, max: 512, length: { min: 1, max: 8 } });
    const pretraining = Object.fromEntries(fieldsOf("pretraining").map((field) => [field.key, field]));
    expect(pretraining.cosineDecay?.kind).toBe("boolean");
  });

  it("writes labels and limit hints people can read", () => {
    expect(labelOf("minLearningRateRatio")).toBe("Min learning rate ratio");
    expect(labelOf("klBeta")).toBe("KL β");
    expect(limitText({ kind: "integer", unit: "steps", min: 0, max: 200_000 })).toBe("steps; 0–200,000");
    expect(limitText({ kind: "integer-list", unit: "k values", min: 1, max: 512, length: { max: 8 } })).toBe(
      "k values; each 1–512; up to 8 values, comma-separated",
    );
  });

  it("parses comma lists, leaving junk for the schema to name", () => {
    expect(parseIntegerList("1, 4 16")).toEqual([1, 4, 16]);
    expect(parseIntegerList("1, x")).toEqual([1, Number.NaN]);
    expect(parseIntegerList("")).toEqual([]);
  });

  it("presets are valid recipes and copies, not the shared objects", () => {
    const tiny = presetValues("tiny");
    expect(recipeSchema.parse(tiny)).toEqual(tiny);
    tiny.model = { ...tiny.model, layers: 3 };
    expect(presetValues("tiny").model?.layers).toBe(1);
  });
});
