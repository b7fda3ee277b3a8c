"use client";
// Submit: a task variant version, a recipe version and a number of seeds → that many
// queued runs. Before: the queue and the compute of one run; after: the queue position, the
// estimated wait, and links to the runs.
import { zodResolver } from "@hookform/resolvers/zod";
import { keepPreviousData, useMutation, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useForm, useWatch } from "react-hook-form";
import { recipeSchema } from "@transcend/protocol";
import { Alert, Button, ButtonLink, Card, CardHeader, Field, Input, Select, Skeleton } from "@/components/ui";
import { formatCount, formatDuration } from "@/components/format";
import { useTRPC } from "@/trpc/react";
import { saveProblems } from "@/app/_lib/save-problems";
import { MAX_SEEDS, submitFormSchema, type SubmitFormValues } from "./submit-schema";

export interface VersionOption {
  id: string;
  label: string;
  /** Recipes: their own seeds (the default number of seeds). */
  seeds?: number[];
  spec?: unknown;
}

export function SubmitForm({
  variants,
  recipes,
  initial,
  quota,
}: {
  variants: VersionOption[];
  recipes: VersionOption[];
  initial: Partial<SubmitFormValues>;
  quota: { limit: number; remaining: number };
}) {
  const trpc = useTRPC();
  const submit = useMutation(trpc.runs.submit.mutationOptions());
  const queued = useQuery({ ...trpc.runs.list.queryOptions({ state: "queued", limit: 100 }), refetchInterval: 10_000 });
  const { register, handleSubmit, control, setError, formState } = useForm<SubmitFormValues>({
    resolver: zodResolver(submitFormSchema),
    defaultValues: { variantId: initial.variantId ?? "", recipeId: initial.recipeId ?? "", seedCount: initial.seedCount ?? 1 },
    mode: "onTouched",
  });
  const { errors, isSubmitting } = formState;
  const [variantId, recipeId, seedCount] = useWatch({ control, name: ["variantId", "recipeId", "seedCount"] });
  const recipe = recipes.find((option) => option.id === recipeId);
  const recipeSettings = recipe ? recipeSchema.safeParse(recipe.spec) : undefined;
  const estimate = useQuery({
    ...trpc.recipes.estimate.queryOptions({
      recipe: recipeSettings?.success ? recipeSettings.data : recipeSchema.parse({}),
      variant: variantId ? { id: variantId } : undefined,
    }),
    enabled: recipeSettings?.success === true,
    placeholderData: keepPreviousData,
  });

  const onSubmit = handleSubmit(async (values) => {
    try {
      await submit.mutateAsync({ variant: { id: values.variantId }, recipe: { id: values.recipeId }, seedCount: values.seedCount });
    } catch (error) {
      for (const problem of saveProblems(error)) {
        const path = problem.path === "variant.id" ? "variantId" : problem.path === "recipe.id" ? "recipeId" : problem.path === "seedCount" ? "seedCount" : undefined;
        setError(path ?? "root", { type: "server", message: problem.message });
      }
    }
  });

  if (submit.data) {
    const result = submit.data;
    return (
      <Card aria-labelledby="submitted">
        <CardHeader id="submitted" title={`${result.runs.length} run${result.runs.length === 1 ? "" : "s"} queued`} />
        <dl className="grid gap-4 sm:grid-cols-3">
          <div>
            <dt className="text-xs font-medium uppercase tracking-wide text-slate-500 dark:text-slate-400">Queue position</dt>
            <dd data-testid="queue-position" className="text-2xl font-bold tabular-nums">
              {result.queuePosition}
            </dd>
          </div>
          <div>
            <dt className="text-xs font-medium uppercase tracking-wide text-slate-500 dark:text-slate-400">Estimated wait</dt>
            <dd className="text-2xl font-bold tabular-nums">{result.etaSeconds === null ? "unknown" : formatDuration(result.etaSeconds)}</dd>
          </div>
          <div>
            <dt className="text-xs font-medium uppercase tracking-wide text-slate-500 dark:text-slate-400">Left today</dt>
            <dd className="text-2xl font-bold tabular-nums">{result.quotaRemaining}</dd>
          </div>
        </dl>
        <p className="mt-3 text-sm text-slate-600 dark:text-slate-400">{result.etaBasis}</p>
        <ul className="mt-4 space-y-1 text-sm">
          {result.runs.map((run) => (
            <li key={run.id}>
              <Link className="font-medium text-indigo-600 hover:underline dark:text-indigo-400" href={`/runs/${run.id}`}>
                Run with seed {run.seed}
              </Link>
            </li>
          ))}
        </ul>
        <div className="mt-6 flex flex-wrap gap-2">
          <ButtonLink href="/runs?mine=1">See my runs</ButtonLink>
          <Button variant="secondary" onClick={() => submit.reset()}>
            Submit more
          </Button>
        </div>
      </Card>
    );
  }

  const queuedCount = queued.data?.items.length;
  return (
    <form onSubmit={onSubmit} noValidate className="grid gap-6 lg:grid-cols-[minmax(0,1fr)_20rem] lg:items-start">
      <Card aria-labelledby="what">
        <CardHeader id="what" title="What to run" description="One run per seed; each pretrains a model from scratch, GRPO-trains it, and has both evaluated." />
        <div className="space-y-4">
          <Field label="Task variant version" hint="the splits and mixes to train and evaluate on" error={errors.variantId?.message}>
            <Select {...register("variantId")}>
              <option value="">Choose a task variant…</option>
              {variants.map((option) => (
                <option key={option.id} value={option.id}>
                  {option.label}
                </option>
              ))}
            </Select>
          </Field>
          <Field label="Recipe version" hint="the model, pretraining, GRPO and evaluation settings" error={errors.recipeId?.message}>
            <Select {...register("recipeId")}>
              <option value="">Choose a recipe…</option>
              {recipes.map((option) => (
                <option key={option.id} value={option.id}>
                  {option.label}
                </option>
              ))}
            </Select>
          </Field>
          <Field
            label="Seeds"
            hint={`runs to start (seeds 1…N), 1–${MAX_SEEDS}; results are reported as a mean with a confidence interval over seeds`}
            error={errors.seedCount?.message}
          >
            <Input type="number" inputMode="numeric" min={1} max={MAX_SEEDS} step={1} className="w-32" {...register("seedCount", { valueAsNumber: true })} />
          </Field>
          {errors.root?.message && <Alert tone="error">{errors.root.message}</Alert>}
          <div className="flex flex-wrap items-center gap-3">
            <Button type="submit" pending={isSubmitting} disabled={quota.remaining === 0}>
              Submit {Number.isInteger(seedCount) && seedCount > 0 ? `${seedCount} run${seedCount === 1 ? "" : "s"}` : "runs"}
            </Button>
            <span className="text-sm text-slate-600 dark:text-slate-400">
              {quota.remaining} of {quota.limit} runs left in your daily quota
            </span>
          </div>
        </div>
      </Card>

      <div className="space-y-4">
        <Card aria-labelledby="queue">
          <CardHeader id="queue" title="Queue" />
          <div className="text-sm" aria-live="polite">
            {queuedCount === undefined ? (
              <Skeleton className="h-5 w-40" />
            ) : queuedCount === 0 ? (
              "No run is waiting: yours would be next."
            ) : (
              `${queuedCount >= 100 ? "100 or more" : queuedCount} run${queuedCount === 1 ? "" : "s"} waiting ahead of yours.`
            )}
          </div>
        </Card>
        <Card aria-labelledby="per-run">
          <CardHeader id="per-run" title="Compute per run" />
          {!recipeSettings?.success ? (
            <p className="text-sm text-slate-600 dark:text-slate-400">Pick a recipe to see its size and compute.</p>
          ) : estimate.data ? (
            <dl className="space-y-1 text-sm tabular-nums">
              <div className="flex justify-between">
                <dt>Parameters</dt>
                <dd>{formatCount(estimate.data.parameters)}</dd>
              </div>
              <div className="flex justify-between">
                <dt>Pretraining</dt>
                <dd>{formatCount(estimate.data.pretraining.flops)} FLOPs</dd>
              </div>
              <div className="flex justify-between">
                <dt>GRPO</dt>
                <dd>{formatCount(estimate.data.grpo.flops)} FLOPs</dd>
              </div>
              <div className="flex justify-between">
                <dt>Evaluation</dt>
                <dd>{formatCount(estimate.data.evaluation.flops)} FLOPs</dd>
              </div>
              <div className="flex justify-between font-semibold">
                <dt>All {Number.isInteger(seedCount) && seedCount > 0 ? seedCount : 1} runs</dt>
                <dd>{formatCount(estimate.data.totalFlops * (Number.isInteger(seedCount) && seedCount > 0 ? seedCount : 1))} FLOPs</dd>
              </div>
              {estimate.data.warnings.map((warning) => (
                <p key={warning} className="pt-2 text-amber-700 dark:text-amber-300">
                  {warning}
                </p>
              ))}
            </dl>
          ) : (
            <Skeleton className="h-24 w-full" />
          )}
        </Card>
      </div>
    </form>
  );
}
