// `reproduce --server URL`: the study's runs submitted to a Transcend server, waited for, and
// their server-graded per-item outcomes turned back into the RunResults the report is made
// from. The numbers are the server's: the runner only regroups its per-item outcomes with
// summarizeSplit/compareSplit. Resumable: DIR/server-runs.json maps preset × seed → run id.
import { createHash } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { resolveVariant } from "@transcend/tasks";
import { z } from "zod";
import { UserError } from "../errors";
import { forwardFlopsPerToken, modelConfigFor, parameterCount } from "../training/config";
import { compareSplit, type ItemScore, summarizeSplit } from "../training/evaluation";
import { ENGINE_VERSION, RESULTS_FORMAT, type RunResults, type SplitResult } from "../training/job";
import { readFinishedRun, RESULTS_FILE } from "./execute";
import type { PlannedRun, StudyPlan } from "./study";

export const SERVER_RUNS_FILE = "server-runs.json";
const TERMINAL = new Set(["graded", "failed", "cancelled"]);

export interface ServerStudyOptions {
  server: string;
  token: string;
  outDir: string;
  log: (line: string) => void;
  signal?: AbortSignal;
  /** Between two polls of the unfinished runs (default 10 s). */
  pollMs?: number;
}

export interface ServerStudyOutcome {
  submitted: number;
  graded: number;
  failed: { slug: string; seed: number; runId: string; state: string }[];
}

const mappingSchema = z.object({ server: z.string(), recipeSlug: z.string(), runs: z.record(z.string(), z.uuid()) });
type Mapping = z.infer<typeof mappingSchema>;

const itemLineSchema = z.object({
  split: z.string(),
  item: z.string(),
  n: z.number().int().min(1),
  base: z.object({ greedyCorrect: z.boolean(), correct: z.number().int().min(0) }),
  grpo: z.object({ greedyCorrect: z.boolean(), correct: z.number().int().min(0) }),
});

const keyOf = (run: PlannedRun) => `${run.preset.slug}#${run.seed}`;

/** A minimal tRPC-over-HTTP client in the wire format of the README (superjson `{json: …}`). */
class TrpcClient {
  constructor(
    private readonly server: string,
    private readonly token: string,
    private readonly signal?: AbortSignal,
  ) {}

  private async call(procedure: string, init: RequestInit & { url: string }): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(init.url, {
        ...init,
        headers: { Authorization: `Bearer ${this.token}`, "Content-Type": "application/json" },
        signal: this.signal,
      });
    } catch (error) {
      if (this.signal?.aborted) throw error;
      throw new UserError(`cannot reach ${this.server} (${procedure}): ${error instanceof Error ? error.message : String(error)}`);
    }
    const body = (await response.json().catch(() => undefined)) as
      | { result?: { data?: { json?: unknown } }; error?: { json?: { message?: string; data?: { code?: string } } } }
      | undefined;
    if (!response.ok || body?.error) {
      const error = new TrpcError(procedure, response.status, body?.error?.json?.data?.code, body?.error?.json?.message);
      throw error;
    }
    return body?.result?.data?.json;
  }

  query(procedure: string, input: unknown): Promise<unknown> {
    const url = `${this.server}/api/trpc/${procedure}?input=${encodeURIComponent(JSON.stringify({ json: input }))}`;
    return this.call(procedure, { url, method: "GET" });
  }

  mutation(procedure: string, input: unknown): Promise<unknown> {
    return this.call(procedure, { url: `${this.server}/api/trpc/${procedure}`, method: "POST", body: JSON.stringify({ json: input }) });
  }

  async itemLines(runId: string): Promise<z.infer<typeof itemLineSchema>[]> {
    const response = await fetch(`${this.server}/api/runs/${runId}/items`, { headers: { Authorization: `Bearer ${this.token}` }, signal: this.signal });
    if (!response.ok) throw new UserError(`${this.server} answered ${response.status} for the items of run ${runId}`);
    const text = await response.text();
    return text
      .split("\n")
      .filter((line) => line.trim().length > 0)
      .map((line) => itemLineSchema.parse(JSON.parse(line)));
  }
}

class TrpcError extends UserError {
  constructor(
    procedure: string,
    readonly status: number,
    readonly code: string | undefined,
    message: string | undefined,
  ) {
    super(`${procedure} failed (HTTP ${status}${code ? ` ${code}` : ""}): ${message ?? "no message"}`);
  }
}

async function readMapping(file: string): Promise<Mapping | undefined> {
  try {
    return mappingSchema.parse(JSON.parse(await readFile(file, "utf8")));
  } catch {
    return undefined;
  }
}

async function writeJson(file: string, value: unknown): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(value, null, 2)}\n`);
  await rename(temporary, file);
}

/** One slug per recipe content, so a second call (or another study of the same recipe) reuses it. */
export function studyRecipeSlug(plan: StudyPlan): string {
  const hash = createHash("sha256").update(JSON.stringify(plan.recipe)).digest("hex").slice(0, 10);
  return `study-${plan.scale}-${hash}`;
}

async function ensureRecipe(client: TrpcClient, plan: StudyPlan, slug: string): Promise<void> {
  try {
    await client.query("recipes.get", { slug });
    return;
  } catch (error) {
    if (!(error instanceof TrpcError) || error.code !== "NOT_FOUND") throw error;
  }
  await client.mutation("recipes.create", { spec: { ...plan.recipe, slug, name: `Reproduction study (${plan.recipe.name})`.slice(0, 80) } });
}

/** The RunResults the report reads, from a graded run's per-item outcomes; what the server does not publish is zero. */
export function resultsFromItems(run: PlannedRun, plan: StudyPlan, lines: readonly z.infer<typeof itemLineSchema>[]): RunResults {
  const variant = resolveVariant(run.preset.variant);
  const config = modelConfigFor(plan.recipe.model, variant.tokenizer.size);
  const evaluation: Record<string, SplitResult> = {};
  const splits = [...new Set(lines.map((l) => l.split))];
  for (const split of splits) {
    const ofSplit = lines.filter((l) => l.split === split);
    const n = ofSplit[0]?.n ?? plan.recipe.evaluation.samplesPerItem;
    const scores = (model: "base" | "grpo"): ItemScore[] =>
      ofSplit.map((l) => ({ id: l.item, greedyReward: l[model].greedyCorrect ? 1 : 0, correct: l[model].correct }));
    const base = summarizeSplit(split, scores("base"), n, plan.recipe.evaluation.kValues);
    const final = summarizeSplit(split, scores("grpo"), n, plan.recipe.evaluation.kValues);
    evaluation[split] = { base, final, comparison: compareSplit(base, final) };
  }
  return {
    format: RESULTS_FORMAT,
    engine: { version: ENGINE_VERSION, backend: "cpu", label: "server-graded", threads: 0, matmul: "server" },
    variant: run.preset.variant,
    recipe: plan.recipe,
    seed: run.seed,
    model: { config, parameters: parameterCount(config), forwardFlopsPerToken: forwardFlopsPerToken(config) },
    origin: { key: "", reused: false },
    pretraining: { steps: 0, initialLoss: 0, finalLoss: 0, losses: [], tokens: 0 },
    grpo: { steps: 0, initialReward: 0, finalReward: 0, history: [] },
    evaluation,
    checkpoints: {},
    timings: { pretraining: 0, "evaluating-base": 0, grpo: 0, "evaluating-final": 0, total: 0 },
  };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
      },
      { once: true },
    );
  });
}

/**
 * Submits every run of the plan not yet mapped to a server run, waits until each is graded,
 * failed or cancelled, and writes each graded run's results.json under its run directory.
 */
export async function runStudyOnServer(plan: StudyPlan, options: ServerStudyOptions): Promise<ServerStudyOutcome> {
  const server = options.server.replace(/\/+$/, "");
  if (!/^https?:\/\//.test(server)) throw new UserError(`--server must be an http(s) URL, got "${options.server}"`);
  const client = new TrpcClient(server, options.token, options.signal);
  const file = path.join(options.outDir, SERVER_RUNS_FILE);
  const recipeSlug = studyRecipeSlug(plan);
  const existing = await readMapping(file);
  if (existing && existing.server !== server)
    throw new UserError(`${options.outDir} holds runs of ${existing.server}; choose another --out for ${server}`);
  const mapping: Mapping = existing ?? { server, recipeSlug, runs: {} };

  const total = plan.runs.length;
  const width = String(total).length;
  const labelOf = (run: PlannedRun) => `[${String(plan.runs.indexOf(run) + 1).padStart(width)}/${total}] ${run.preset.slug} seed ${run.seed}`;

  let submitted = 0;
  const unmapped = plan.runs.filter((run) => mapping.runs[keyOf(run)] === undefined);
  if (unmapped.length > 0) {
    await ensureRecipe(client, plan, mapping.recipeSlug);
    for (const preset of plan.presets) {
      const runs = unmapped.filter((run) => run.preset.slug === preset.slug);
      if (runs.length === 0) continue;
      const answer = z
        .object({ runs: z.array(z.object({ id: z.uuid(), seed: z.number().int() })) })
        .parse(
          await client.mutation("runs.submit", { variant: { slug: preset.slug }, recipe: { slug: mapping.recipeSlug }, seeds: runs.map((r) => r.seed) }),
        );
      for (const created of answer.runs) {
        const run = runs.find((r) => r.seed === created.seed);
        if (run) mapping.runs[keyOf(run)] = created.id;
      }
      submitted += answer.runs.length;
      // Saved after every submission, so an interrupted call never submits a run twice.
      await mkdir(options.outDir, { recursive: true });
      await writeJson(file, mapping);
      options.log(`reproduce: submitted ${preset.slug} seeds ${runs.map((r) => r.seed).join(", ")} to ${server}`);
    }
  }

  const states = new Map<PlannedRun, string>();
  const failed: ServerStudyOutcome["failed"] = [];
  let graded = 0;
  const done = () => graded + failed.length;
  const pending = new Set<PlannedRun>();
  for (const run of plan.runs) {
    // Already written from an earlier call: graded runs never change.
    if ((await readFinishedRun(run, plan.recipe)) !== undefined) {
      graded += 1;
      options.log(`${labelOf(run)} · graded earlier, skipped · ${done()}/${total} done`);
    } else pending.add(run);
  }

  while (pending.size > 0) {
    for (const run of [...pending]) {
      const runId = mapping.runs[keyOf(run)];
      if (runId === undefined) throw new Error(`no server run for ${keyOf(run)}`);
      const { state } = z.object({ state: z.string() }).parse(await client.query("runs.get", { runId }));
      if (states.get(run) === state) continue;
      states.set(run, state);
      if (state === "graded") {
        const results = resultsFromItems(run, plan, await client.itemLines(runId));
        await mkdir(run.dir, { recursive: true });
        await writeJson(path.join(run.dir, RESULTS_FILE), results);
        graded += 1;
        pending.delete(run);
      } else if (TERMINAL.has(state)) {
        failed.push({ slug: run.preset.slug, seed: run.seed, runId, state });
        pending.delete(run);
      }
      options.log(`${labelOf(run)} · ${state} (run ${runId}) · ${done()}/${total} done`);
    }
    if (pending.size > 0) await sleep(options.pollMs ?? 10_000, options.signal);
  }
  return { submitted, graded, failed };
}
