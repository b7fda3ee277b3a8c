// Pure helpers behind the task variant form: starting points, keeping the mixes in step
// with the splits, and the live preview's token-by-token view of generated examples.
import {
  AXES,
  TASK_LIMITS,
  type Axis,
  type TaskFamilyName,
  type TaskSplit,
  type TaskVariant,
  type TaskVariantInput,
} from "@transcend/protocol";
import { createRng, families, findPreset, resolveVariant } from "@transcend/tasks";

/** A new variant of `family` starts from its depth preset with partial overlap: a working example to edit. */
export function startingVariant(family: TaskFamilyName): TaskVariantInput {
  const preset = findPreset(`${family}-depth-partial`);
  if (!preset) throw new Error(`no depth preset for ${family}`);
  return {
    ...structuredClone(preset),
    slug: `my-${family}-depth`,
    name: `My ${family} variant`,
    description: "",
  };
}

/** The variant as the form edits it: fields the schema defaults are filled, so every control has a value. */
export function toFormValues(variant: TaskVariantInput): TaskVariantInput {
  return {
    ...structuredClone(variant),
    description: variant.description ?? "",
    chainOfThought: variant.chainOfThought ?? true,
    evalItemsPerSplit: variant.evalItemsPerSplit ?? 64,
  };
}

/** A fork keeps everything but says whose it is now: a fresh slug and name. */
export function forkOf(variant: TaskVariantInput): TaskVariantInput {
  const slug = `${variant.slug}-fork`.slice(0, 64).replace(/-+$/, "");
  return { ...toFormValues(variant), slug, name: `${variant.name} (fork)`.slice(0, 120) };
}

/** A name no split uses yet: `base`, then `base-2`, `base-3`, … */
export function unusedSplitName(taken: readonly string[], base: string): string {
  if (!taken.includes(base)) return base;
  for (let n = 2; ; n++) {
    const name = `${base}-${n}`;
    if (!taken.includes(name)) return name;
  }
}

/** A new split copies the id split's parameters (the schema then says what must differ on its axis). */
export function newSplit(splits: readonly TaskVariantInput["splits"][number][], axis: Exclude<Axis, "id"> = "depth") {
  const id = splits.find((split) => split.axis === "id") ?? splits[0];
  if (!id) throw new Error("a variant always has splits");
  return {
    name: unusedSplitName(
      splits.map((split) => split.name),
      `ood-${axis}`,
    ),
    axis,
    params: structuredClone(id.params),
  } as TaskVariantInput["splits"][number];
}

export const canAddSplit = (count: number) => count < TASK_LIMITS.variant.splits;
export const canRemoveSplit = (count: number) => count > 2;

/** The mix with one key renamed (order kept); the form calls it when a split is renamed. */
export function renameMixKey(mix: Readonly<Record<string, number>>, from: string, to: string): Record<string, number> {
  if (from === to || !Object.hasOwn(mix, from)) return { ...mix };
  return Object.fromEntries(Object.entries(mix).map(([key, weight]) => [key === from ? to : key, weight]));
}

/** The mix without a split (removed from the variant). */
export function dropMixKey(mix: Readonly<Record<string, number>>, name: string): Record<string, number> {
  return Object.fromEntries(Object.entries(mix).filter(([key]) => key !== name));
}

/** Each weight as a share of the total, as the engine normalises them (undefined when nothing is weighted). */
export function mixShares(mix: Readonly<Record<string, number>>): Record<string, number> | undefined {
  const valid = Object.entries(mix).filter(([, weight]) => Number.isFinite(weight) && weight >= 0);
  const total = valid.reduce((sum, [, weight]) => sum + weight, 0);
  if (!(total > 0)) return undefined;
  return Object.fromEntries(valid.map(([key, weight]) => [key, weight / total]));
}

export const AXIS_LABELS: Record<Axis, string> = {
  id: "in-distribution",
  depth: "reasoning depth",
  length: "input length",
  representation: "token representation",
  composition: "compositionality",
};
export const AXIS_OPTIONS = AXES.map((axis) => ({ value: axis, label: `${axis} — ${AXIS_LABELS[axis]}` }));

// ---------------------------------------------------------------------------------------
// The live preview.

/**
 * prompt: what the model is conditioned on (supervised in pretraining only when a recipe's
 * lossOn is "all"). marker: the layout's special tokens. thought: the chain of thought.
 * answer: what the verifier reads — the rewarded tokens.
 */
export type TokenRole = "prompt" | "marker" | "thought" | "answer";

export interface PreviewToken {
  text: string;
  role: TokenRole;
  /** Pretraining's loss covers it whatever the recipe's lossOn. */
  supervised: boolean;
  /** GRPO's reward depends on it (the verifier reads it). */
  rewarded: boolean;
}

export interface PreviewExample {
  tokens: PreviewToken[];
  /** The reference completion earns the full reward (a check that generator and verifier agree). */
  reward: number;
}

export type SplitPreview =
  | { ok: true; examples: PreviewExample[]; maxTokens: number }
  | { ok: false; problem: string };

/**
 * `count` examples of one split, laid out token by token exactly as the engine lays out a
 * training sequence (`resolveVariant`'s prompt and completion tokens). Works from a split
 * whose own parameters are valid even while the rest of the variant is not.
 */
export function previewSplit(
  family: TaskFamilyName,
  split: Pick<TaskSplit, "name" | "params">,
  options: { chainOfThought: boolean; seed: number; count: number },
): SplitPreview {
  const parsed = families[family].paramsSchema.safeParse(split.params);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, problem: issue ? `${issue.path.join(".") || "params"}: ${issue.message}` : "invalid parameters" };
  }
  const name = "preview";
  // A one-split variant is enough for the layout; the schema's cross-split rules do not matter here.
  const resolved = resolveVariant({
    slug: "preview",
    name: "preview",
    description: "",
    family,
    splits: [{ name, axis: "id", params: parsed.data }],
    pretrainingMix: { [name]: 1 },
    grpoMix: { [name]: 1 },
    chainOfThought: options.chainOfThought,
    evalSplits: [name],
    evalItemsPerSplit: 1,
  } as TaskVariant);
  const rng = createRng(`preview/${split.name}/${options.seed}`);
  const examples: PreviewExample[] = [];
  try {
    for (let index = 0; index < options.count; index++) {
      const example = resolved.sample(name, rng);
      const prompt = resolved.promptTokens(example);
      const completion = resolved.completionTokens(example);
      examples.push({ tokens: classify(prompt, completion), reward: resolved.verify(prompt, completion) });
    }
  } catch (error) {
    return { ok: false, problem: error instanceof Error ? error.message : String(error) };
  }
  const bound = resolved.lengthBound(name);
  return { ok: true, examples, maxTokens: bound.prompt + bound.completion };
}

const MARKERS = new Set(["<bos>", "<think>", "<answer>", "<eos>"]);

function classify(prompt: readonly string[], completion: readonly string[]): PreviewToken[] {
  const tokens: PreviewToken[] = prompt.map((text) => ({
    text,
    role: MARKERS.has(text) ? "marker" : "prompt",
    supervised: false,
    rewarded: false,
  }));
  let inAnswer = false;
  for (const text of completion) {
    if (text === "<answer>") inAnswer = true;
    else if (text === "<eos>") inAnswer = false;
    const role: TokenRole = MARKERS.has(text) ? "marker" : inAnswer ? "answer" : "thought";
    tokens.push({ text, role, supervised: true, rewarded: role === "answer" });
  }
  return tokens;
}

// ---------------------------------------------------------------------------------------
// Validation messages by path.

/** The message at a dotted path of react-hook-form's nested errors (an array's own message sits at `root`). */
export function errorAt(errors: unknown, path: string): string | undefined {
  let node: unknown = errors;
  for (const key of path.split(".")) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  if (node === null || typeof node !== "object") return undefined;
  const record = node as { message?: unknown; root?: { message?: unknown } };
  if (typeof record.message === "string" && record.message) return record.message;
  if (typeof record.root?.message === "string" && record.root.message) return record.root.message;
  return undefined;
}
