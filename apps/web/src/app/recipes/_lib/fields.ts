// The recipe form is drawn from recipeSchema itself: every field's label, meaning, unit,
// limits and default come from the schema (its `.describe()` texts and min/max), so the form
// cannot drift from what the server and the runners accept.
import {
  evaluationRecipeSchema,
  grpoRecipeSchema,
  modelRecipeSchema,
  pretrainingRecipeSchema,
  recipePresets,
  runnerRequirementsSchema,
  type RecipeInput,
  type RecipePresetName,
} from "@transcend/protocol";
import type { z } from "zod";

export type RecipeSection = "model" | "pretraining" | "grpo" | "evaluation" | "requirements";

export type FieldKind = "integer" | "number" | "boolean" | "choice" | "integer-list";

export interface RecipeField {
  section: RecipeSection;
  key: string;
  /** `model.layers` */
  path: string;
  label: string;
  description: string;
  kind: FieldKind;
  unit?: string;
  min?: number;
  max?: number;
  options?: readonly string[];
  /** May be left empty (the schema says what empty means in its description). */
  optional: boolean;
  /** For lists: how many entries. */
  length?: { min?: number; max?: number };
  /** Stored value per unit shown: the form edits memory in GiB and stores bytes. */
  scale?: number;
}

export const SECTIONS: { key: RecipeSection; title: string; description: string; schema: z.ZodObject }[] = [
  { key: "model", title: "Model", description: "A decoder-only transformer trained from scratch.", schema: modelRecipeSchema },
  { key: "pretraining", title: "Pretraining", description: "Next-token prediction on sequences drawn from the variant's pretraining mix.", schema: pretrainingRecipeSchema },
  { key: "grpo", title: "GRPO", description: "Group-relative policy optimisation on prompts from the variant's GRPO mix, rewarded by the family's verifier.", schema: grpoRecipeSchema },
  { key: "evaluation", title: "Evaluation", description: "How the base and the GRPO model are evaluated on held-out items the server generates.", schema: evaluationRecipeSchema },
  {
    key: "requirements",
    title: "Runner requirements",
    description: "The queue gives this recipe's runs only to runners that have these. Leave them empty and any runner may train it.",
    schema: runnerRequirementsSchema,
  },
];

const GIB = 2 ** 30;

/** Fields edited in a larger unit than the schema stores, by path. */
const SCALES: Record<string, number> = { "requirements.minMemoryBytes": GIB };

/** Units the schema's descriptions leave implicit, by field path. */
const UNITS: Record<string, string> = {
  "model.layers": "blocks",
  "model.dModel": "dimensions",
  "model.heads": "heads",
  "model.contextLength": "tokens",
  "model.dropout": "probability",
  "pretraining.steps": "steps",
  "pretraining.batchSize": "sequences",
  "pretraining.learningRate": "per step",
  "pretraining.warmupSteps": "steps",
  "pretraining.minLearningRateRatio": "× peak",
  "pretraining.weightDecay": "coefficient",
  "pretraining.gradClip": "gradient norm",
  "grpo.steps": "steps",
  "grpo.promptsPerStep": "prompts",
  "grpo.groupSize": "completions",
  "grpo.temperature": "softmax temperature",
  "grpo.maxNewTokens": "tokens",
  "grpo.learningRate": "per step",
  "grpo.weightDecay": "coefficient",
  "grpo.gradClip": "gradient norm",
  "grpo.clipEpsilon": "ratio",
  "grpo.klBeta": "β",
  "grpo.innerIterations": "updates",
  "evaluation.itemsPerSplit": "items",
  "evaluation.samplesPerItem": "samples",
  "evaluation.kValues": "k values",
  "evaluation.temperature": "softmax temperature",
  "evaluation.maxNewTokens": "tokens",
  "requirements.minMemoryBytes": "GiB",
  "requirements.minCores": "cores",
};

/** "minLearningRateRatio" → "Min learning rate ratio". */
export function labelOf(key: string): string {
  const words = key.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase();
  const special: Record<string, string> = {
    "d model": "Model width (dModel)",
    "kl beta": "KL β",
    "k values": "k values (pass@k)",
    gpu: "GPU required",
    "min memory bytes": "Minimum memory",
    "min cores": "Minimum cores",
  };
  if (special[words]) return special[words];
  return words.charAt(0).toUpperCase() + words.slice(1);
}

interface Introspected {
  kind: FieldKind;
  min?: number;
  max?: number;
  options?: readonly string[];
  optional: boolean;
  length?: { min?: number; max?: number };
}

function introspect(schema: z.ZodType): Introspected {
  let node = schema as z.ZodType & { def: { type: string; innerType?: z.ZodType } };
  let optional = false;
  // Defaults and optionality wrap the field's own type.
  while (node.def.type === "default" || node.def.type === "optional" || node.def.type === "prefault") {
    if (node.def.type === "optional") optional = true;
    const inner = node.def.innerType;
    if (!inner) break;
    node = inner as typeof node;
  }
  switch (node.def.type) {
    case "number": {
      const number = node as unknown as z.ZodNumber;
      return {
        kind: number.isInt ? "integer" : "number",
        min: number.minValue ?? undefined,
        max: number.maxValue ?? undefined,
        optional,
      };
    }
    case "boolean":
      return { kind: "boolean", optional };
    case "enum":
      return { kind: "choice", options: (node as unknown as z.ZodEnum).options as string[], optional };
    case "array": {
      const array = node as unknown as z.ZodArray<z.ZodNumber>;
      const element = introspect(array.element);
      // Length limits are checks on the array; zod keeps each one's definition.
      const checks = (array.def.checks ?? []).map((check) => check._zod.def as { check: string; minimum?: number; maximum?: number });
      const length = {
        min: checks.find((check) => check.check === "min_length")?.minimum,
        max: checks.find((check) => check.check === "max_length")?.maximum,
      };
      return { kind: "integer-list", min: element.min, max: element.max, optional, length };
    }
    default:
      throw new Error(`the recipe form has no control for a ${node.def.type} field`);
  }
}

/** Limits in the unit the form shows, rounded to what a person would type. */
function scaled(field: Introspected, scale: number | undefined): Introspected & { scale?: number } {
  if (scale === undefined) return field;
  const show = (value: number | undefined) => (value === undefined ? undefined : Math.round((value / scale) * 1000) / 1000);
  return { ...field, min: show(field.min), max: show(field.max), scale };
}

/** A stored value as the form shows it (bytes → GiB); unset stays unset. */
export function toShown(field: Pick<RecipeField, "scale">, value: number | undefined): number | undefined {
  return value === undefined || field.scale === undefined ? value : value / field.scale;
}

/** What was typed (GiB) as the schema stores it (whole bytes); NaN stays NaN for the schema to name. */
export function fromShown(field: Pick<RecipeField, "scale">, value: number): number {
  return field.scale === undefined || Number.isNaN(value) ? value : Math.round(value * field.scale);
}

/** A stored value for the recipe page: "4 GiB", "yes", "1, 4, 16"; unset requirements are "none". */
export function formatFieldValue(field: Pick<RecipeField, "section" | "kind" | "scale" | "unit">, value: unknown): string {
  if (value === undefined) {
    if (field.kind === "boolean") return "no";
    return field.section === "requirements" ? "none" : "unset";
  }
  if (Array.isArray(value)) return value.join(", ");
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "number" && field.scale !== undefined) return `${Number((toShown(field, value) ?? 0).toFixed(3))} ${field.unit ?? ""}`.trim();
  return String(value);
}

export function fieldsOf(section: RecipeSection): RecipeField[] {
  const entry = SECTIONS.find((s) => s.key === section);
  if (!entry) throw new Error(`unknown recipe section ${section}`);
  return Object.entries(entry.schema.shape).map(([key, schema]) => {
    const path = `${section}.${key}`;
    return {
      section,
      key,
      path,
      label: labelOf(key),
      description: (schema as z.ZodType).description ?? "",
      unit: UNITS[path],
      ...scaled(introspect(schema as z.ZodType), SCALES[path]),
    };
  });
}

const formatLimit = (value: number) => (Math.abs(value) >= 10_000 ? value.toLocaleString("en") : String(value));

/** "blocks; 1–12" — the unit and the limits a field accepts, for the hint under it. */
export function limitText(field: Pick<RecipeField, "unit" | "min" | "max" | "kind" | "length">): string {
  const parts: string[] = [];
  if (field.unit) parts.push(field.unit);
  if (field.min !== undefined && field.max !== undefined) {
    parts.push(field.kind === "integer-list" ? `each ${formatLimit(field.min)}–${formatLimit(field.max)}` : `${formatLimit(field.min)}–${formatLimit(field.max)}`);
  }
  if (field.kind === "integer-list" && field.length?.max !== undefined) parts.push(`up to ${field.length.max} values, comma-separated`);
  return parts.join("; ");
}

/** "1, 4, 16" → [1, 4, 16]; anything unreadable becomes NaN so the schema names the problem. */
export function parseIntegerList(text: string): number[] {
  const parts = text.split(/[\s,]+/).filter((part) => part !== "");
  return parts.map((part) => (/^-?\d+$/.test(part) ? Number(part) : Number.NaN));
}

export const formatIntegerList = (values: readonly number[] | undefined) => (values ?? []).join(", ");

export const PRESET_NAMES = Object.keys(recipePresets) as RecipePresetName[];

export const PRESET_WORDS: Record<RecipePresetName, string> = {
  tiny: "CI-sized: every phase runs in about a minute on a CPU. Learns little.",
  small: "A few minutes per run on a CPU: the ID split is learned partially.",
  paper: "The paper's setting at our scale: learns the preset variants' ID splits, ~60 GRPO steps.",
};

/** A preset as the form edits it: a full copy, every default filled in. */
export function presetValues(name: RecipePresetName): RecipeInput {
  return structuredClone(recipePresets[name]);
}
