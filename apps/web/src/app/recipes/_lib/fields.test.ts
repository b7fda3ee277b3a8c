import { recipeSchema } from "@transcend/protocol";
import { describe, expect, it } from "vitest";
import { SECTIONS, fieldsOf, formatFieldValue, fromShown, labelOf, limitText, parseIntegerList, presetValues, toShown } from "./fields";

const GIB = 2 ** 30;

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

  it("edits runner requirements in the units people think in: GiB of memory, stored as bytes", () => {
    const requirements = Object.fromEntries(fieldsOf("requirements").map((field) => [field.key, field]));
    expect(requirements.gpu).toMatchObject({ kind: "boolean", label: "GPU required" });
    expect(requirements.minMemoryBytes).toMatchObject({ kind: "integer", label: "Minimum memory", unit: "GiB", scale: GIB, min: 0.001, max: 1024, optional: true });
    expect(requirements.minCores).toMatchObject({ kind: "integer", label: "Minimum cores", unit: "cores", min: 1, max: 256, optional: true });
    const memory = requirements.minMemoryBytes ?? { scale: GIB };
    expect(limitText({ kind: "integer", unit: "GiB", min: 0.001, max: 1024 })).toBe("GiB; 0.001–1024");
    expect(fromShown(memory, 1.5)).toBe(1.5 * GIB);
    expect(fromShown(memory, 0.3)).toBe(Math.round(0.3 * GIB));
    expect(fromShown(memory, Number.NaN)).toBeNaN();
    expect(toShown(memory, 8 * GIB)).toBe(8);
    expect(toShown(memory, undefined)).toBeUndefined();
  });

  it("shows stored values on the recipe page, unset requirements as none", () => {
    const [gpu, memory, cores] = fieldsOf("requirements");
    if (!gpu || !memory || !cores) throw new Error("the requirements section lost a field");
    expect(formatFieldValue(gpu, true)).toBe("yes");
    expect(formatFieldValue(gpu, undefined)).toBe("no");
    expect(formatFieldValue(memory, 8 * GIB)).toBe("8 GiB");
    expect(formatFieldValue(memory, Math.round(0.3 * GIB))).toBe("0.3 GiB");
    expect(formatFieldValue(memory, undefined)).toBe("none");
    expect(formatFieldValue(cores, 4)).toBe("4");
    const itemsPerSplit = fieldsOf("evaluation").find((field) => field.key === "itemsPerSplit");
    if (!itemsPerSplit) throw new Error("evaluation lost itemsPerSplit");
    expect(formatFieldValue(itemsPerSplit, undefined)).toBe("unset");
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
