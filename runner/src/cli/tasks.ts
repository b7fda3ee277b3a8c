// `transcend-runner tasks`: look at the synthetic tasks a run trains on without training
// anything — list the presets, print reference items of a split, and score completions.
import { readFile } from "node:fs/promises";
import { parseTaskVariant, type TaskVariant } from "@transcend/protocol";
import { MalformedPromptError, createRng, findPreset, presets, resolveVariant } from "@transcend/tasks";
import { InvalidArgumentError, type Command } from "commander";
import { UserError } from "../errors";
import { readStdin } from "./stdin";

/** Enough items to eyeball or pipe into an experiment; more is a data-generation job, not a look. */
const MAX_SAMPLE_COUNT = 100_000;

function parseCount(value: string): number {
  const count = Number(value);
  if (!Number.isInteger(count) || count < 1 || count > MAX_SAMPLE_COUNT) {
    throw new InvalidArgumentError(`expected an integer from 1 to ${MAX_SAMPLE_COUNT}`);
  }
  return count;
}

function parseSeed(value: string): number {
  const seed = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(seed)) throw new InvalidArgumentError("expected a non-negative integer");
  return seed;
}

function parseFormatReward(value: string): number {
  const reward = Number(value);
  if (value.trim() === "" || !(reward >= 0 && reward < 1)) throw new InvalidArgumentError("expected a number in [0, 1)");
  return reward;
}

/** A preset slug, or a path to a JSON file holding a task variant. */
export async function loadVariant(reference: string): Promise<TaskVariant> {
  const preset = findPreset(reference);
  if (preset) return preset;
  let text: string;
  try {
    text = await readFile(reference, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && !/[/\\]|\.json$/i.test(reference)) {
      throw new UserError(
        `unknown task variant "${reference}": not a preset slug (see \`transcend-runner tasks list\`) nor a file`,
      );
    }
    throw new UserError(`cannot read variant file ${reference}: ${code ?? (error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UserError(`variant file ${reference} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = parseTaskVariant(json);
  if (!parsed.ok) {
    throw new UserError(`variant file ${reference} is not a valid task variant:\n  ${parsed.problems.join("\n  ")}`);
  }
  return parsed.variant;
}

function checkSplit(variant: TaskVariant, split: string): void {
  const names = variant.splits.map((candidate) => candidate.name);
  if (!names.includes(split)) {
    throw new UserError(`variant "${variant.slug}" has no split "${split}"; its splits are ${names.join(", ")}`);
  }
}

/** `tasks sample … | head` closes stdout early; that is the reader being done, not a failure. */
function endQuietlyWhenStdoutCloses(): void {
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(0);
    throw error;
  });
}

function listPresets(options: { json?: boolean }): void {
  endQuietlyWhenStdoutCloses();
  if (options.json) {
    const listing = presets.map((variant) => ({
      slug: variant.slug,
      family: variant.family,
      splits: variant.splits.map((split) => ({ name: split.name, axis: split.axis })),
    }));
    console.log(JSON.stringify(listing, null, 2));
    return;
  }
  const width = Math.max(...presets.map((variant) => variant.slug.length));
  for (const variant of presets) {
    const splits = variant.splits.map((split) => `${split.name} (${split.axis})`).join(", ");
    const mix = Object.entries(variant.pretrainingMix)
      .map(([split, weight]) => `${split} ${weight}`)
      .join(" + ");
    console.log(`${variant.slug.padEnd(width)}  ${splits}; pretraining ${mix}`);
  }
}

async function sampleItems(options: { variant: string; split: string; n: number; seed: number; json?: boolean }) {
  endQuietlyWhenStdoutCloses();
  const variant = await loadVariant(options.variant);
  checkSplit(variant, options.split);
  const resolved = resolveVariant(variant);
  const rng = createRng(options.seed);
  const axis = variant.splits.find((split) => split.name === options.split)?.axis;
  if (!options.json) console.log(`# ${variant.slug} · split ${options.split} (${axis}) · seed ${options.seed}`);
  for (let index = 0; index < options.n; index++) {
    const example = resolved.sample(options.split, rng);
    const item = {
      prompt: resolved.promptTokens(example).join(" "),
      completion: resolved.completionTokens(example).join(" "),
      answer: example.answer.join(" "),
    };
    if (options.json) console.log(JSON.stringify(item));
    else console.log(`${item.prompt}\n    → ${item.completion}`);
  }
}


/** Tokens given either as a space-separated string (what `tasks sample` prints) or as an array of strings. */
function readTokens(value: unknown): string[] | undefined {
  if (typeof value === "string") return value.split(/\s+/).filter((token) => token !== "");
  if (Array.isArray(value) && value.every((token) => typeof token === "string")) return value;
  return undefined;
}

async function verifyCompletions(options: { variant: string; split?: string; formatReward?: number; json?: boolean }) {
  const variant = await loadVariant(options.variant);
  if (options.split !== undefined) checkSplit(variant, options.split);
  const resolved = resolveVariant(variant);
  const vocabulary = new Set(resolved.tokenizer.vocab);
  const lines = (await readStdin()).split(/\r?\n/);
  const problems: string[] = [];
  const rewards: number[] = [];
  lines.forEach((line, index) => {
    if (line.trim() === "") return; // blank lines (a trailing newline) carry no item
    const where = `line ${index + 1}`;
    let item: unknown;
    try {
      item = JSON.parse(line);
    } catch (error) {
      problems.push(`${where}: not valid JSON (${(error as Error).message})`);
      return;
    }
    if (typeof item !== "object" || item === null || Array.isArray(item)) {
      problems.push(`${where}: expected an object {prompt, completion}`);
      return;
    }
    const record = item as Record<string, unknown>;
    const prompt = readTokens(record.prompt);
    const completion = readTokens(record.completion);
    const unknown = prompt?.filter((token) => !vocabulary.has(token)) ?? [];
    if (!prompt) problems.push(`${where}.prompt: expected a space-separated token string or an array of tokens`);
    if (unknown.length > 0) {
      problems.push(`${where}.prompt: tokens not in the ${variant.family} vocabulary: ${[...new Set(unknown)].join(" ")}`);
    }
    if (!completion) problems.push(`${where}.completion: expected a space-separated token string or an array of tokens`);
    if (!prompt || !completion || unknown.length > 0) return;
    try {
      // A completion may hold anything a model wrote; only the prompt must be well formed.
      rewards.push(resolved.verify(prompt, completion, { formatReward: options.formatReward }));
    } catch (error) {
      if (!(error instanceof MalformedPromptError)) throw error;
      problems.push(`${where}.prompt: ${error.message}`);
    }
  });
  if (problems.length > 0) throw new UserError(`cannot verify the input:\n  ${problems.join("\n  ")}`);
  for (const reward of rewards) console.log(options.json ? JSON.stringify({ reward }) : String(reward));
}

export function registerTasksCommand(program: Command): void {
  const tasks = program
    .command("tasks")
    .description("List, sample and verify task variants: the seeded synthetic tasks runs train and are graded on.");

  tasks
    .command("list")
    .description("List the preset task variants.")
    .option("--json", "print an array of {slug, family, splits: [{name, axis}]}")
    .action((options: { json?: boolean }) => listPresets(options));

  tasks
    .command("sample")
    .description("Print reference items of one split: prompt, full reference completion and answer.")
    .requiredOption("--variant <slug|file.json>", "a preset slug or a task variant JSON file")
    .requiredOption("--split <name>", "the split to draw from")
    .option("--n <count>", "number of items", parseCount, 5)
    .option("--seed <seed>", "seed of the item stream", parseSeed, 0)
    .option("--json", "print JSON lines {prompt, completion, answer} of space-separated tokens")
    .action(sampleItems);

  tasks
    .command("verify")
    .description("Score completions: reads JSON lines {prompt, completion} on stdin, prints one reward per line.")
    .requiredOption("--variant <slug|file.json>", "a preset slug or a task variant JSON file")
    .option("--split <name>", "the split the prompts come from (checked to exist; prompts carry all the verifier needs)")
    .option("--format-reward <reward>", "reward for a well-formed wrong answer (off by default)", parseFormatReward)
    .option("--json", "print JSON lines {reward}")
    .action(verifyCompletions);
}
