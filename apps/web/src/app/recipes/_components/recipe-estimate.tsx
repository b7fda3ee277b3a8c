"use client";
// Parameter count, tokens and FLOPs per phase of the recipe as it is typed (the
// `recipes.estimate` procedure), against a chosen task variant or the worst case.
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useEffect, useId, useState } from "react";
import { recipeSchema } from "@transcend/protocol";
import { Alert, Card, CardHeader, Select, Skeleton } from "@/components/ui";
import { formatCount } from "@/components/format";
import { useTRPC } from "@/trpc/react";
import type { RecipeSpecInput } from "../_lib/spec";

// Above this a run is hours of work for a CPU runner: the paper preset is ~3e14 FLOPs and CPU
// runners train at roughly 30–130 GFLOP/s (docs/performance.md), so 1e15 is 2–10 hours.
const SUGGEST_GPU_ABOVE_FLOPS = 1e15;

/** Waits until typing pauses before asking the server again. */
function useSettled<T>(value: T, delayMs: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), delayMs);
    return () => clearTimeout(timer);
  }, [value, delayMs]);
  return settled;
}

export function RecipeEstimate({ values, initialVariantId }: { values: RecipeSpecInput; initialVariantId?: string }) {
  const trpc = useTRPC();
  const selectId = useId();
  const [variantId, setVariantId] = useState(initialVariantId ?? "");
  const variants = useQuery(trpc.variants.list.queryOptions({ limit: 100 }));
  // Only a recipe the schema accepts can be estimated; the form shows what to fix otherwise.
  const { slug: _slug, name: _name, ...recipeValues } = values;
  const parsed = recipeSchema.safeParse(recipeValues);
  const input = useSettled(JSON.stringify(parsed.success ? parsed.data : null), 300);
  const recipe = JSON.parse(input) as ReturnType<typeof recipeSchema.parse> | null;
  const estimate = useQuery({
    ...trpc.recipes.estimate.queryOptions({ recipe: recipe ?? recipeSchema.parse({}), variant: variantId ? { id: variantId } : undefined }),
    enabled: recipe !== null,
    placeholderData: keepPreviousData,
  });

  const phases = estimate.data
    ? ([
        ["Pretraining", estimate.data.pretraining],
        ["GRPO", estimate.data.grpo],
        ["Evaluation", estimate.data.evaluation],
      ] as const)
    : undefined;

  return (
    <Card aria-labelledby="estimate-heading" aria-busy={estimate.isFetching || undefined}>
      <CardHeader id="estimate-heading" title="Size and compute" description="Estimated per run (one seed)." />
      <label htmlFor={selectId} className="mb-1.5 block text-sm font-medium">
        On task variant
      </label>
      <Select id={selectId} value={variantId} onChange={(event) => setVariantId(event.target.value)}>
        <option value="">none — assume worst-case lengths</option>
        {variants.data?.items.map((variant) => (
          <option key={variant.id} value={variant.id}>
            {variant.name} ({variant.slug} v{variant.version})
          </option>
        ))}
      </Select>

      <div className="mt-4 min-h-64">
        {!parsed.success && (
          <p className="mb-3 text-sm text-amber-700 dark:text-amber-300">Fix the highlighted fields to update the estimate.</p>
        )}
        {estimate.isError ? (
          <Alert tone="error">{estimate.error.message}</Alert>
        ) : !estimate.data || !phases ? (
          <div role="status" className="space-y-3">
            <span className="sr-only">Estimating…</span>
            <Skeleton className="h-10 w-40" />
            <Skeleton className="h-32 w-full" />
          </div>
        ) : (
          <>
            <dl>
              <dt className="text-xs font-medium uppercase tracking-wide text-slate-500 dark:text-slate-400">Parameters</dt>
              <dd data-testid="parameter-count" className="text-3xl font-bold tabular-nums">
                {formatCount(estimate.data.parameters)}
              </dd>
            </dl>
            <table className="mt-4 w-full text-sm">
              <thead>
                <tr className="text-left text-xs font-semibold uppercase tracking-wide text-slate-500 dark:text-slate-400">
                  <th scope="col" className="py-1.5">Phase</th>
                  <th scope="col" className="py-1.5 text-right">Tokens</th>
                  <th scope="col" className="py-1.5 text-right">FLOPs</th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-200 tabular-nums dark:divide-slate-800">
                {phases.map(([label, phase]) => (
                  <tr key={label}>
                    <th scope="row" className="py-1.5 text-left font-medium">
                      {label}
                    </th>
                    <td className="py-1.5 text-right">{formatCount(phase.tokens)}</td>
                    <td className="py-1.5 text-right">{formatCount(phase.flops)}</td>
                  </tr>
                ))}
                <tr>
                  <th scope="row" className="py-1.5 text-left font-semibold">
                    Total
                  </th>
                  <td />
                  <td className="py-1.5 text-right font-semibold">{formatCount(estimate.data.totalFlops)}</td>
                </tr>
              </tbody>
            </table>
            <p className="mt-3 text-xs text-slate-500 dark:text-slate-400">
              {estimate.data.task.fromVariant
                ? `Vocabulary ${estimate.data.task.vocabSize} tokens; prompts up to ${estimate.data.task.promptTokens} and completions up to ${estimate.data.task.completionTokens} tokens; ${estimate.data.task.evalSplits} evaluated splits.`
                : `Without a variant: a ${estimate.data.task.vocabSize}-token vocabulary and prompts and completions of half the context each.`}
            </p>
            {estimate.data.totalFlops > SUGGEST_GPU_ABOVE_FLOPS && values.requirements?.gpu !== true && (
              <Alert tone="info" title="Consider a GPU" className="mt-3">
                At {formatCount(estimate.data.totalFlops)} FLOPs a run takes hours on a CPU runner; under Runner requirements, “GPU required” sends it to
                GPU runners only.
              </Alert>
            )}
            {estimate.data.warnings.length > 0 && (
              <Alert tone="warning" title="Check before submitting" className="mt-3">
                <ul className="list-disc pl-4">
                  {estimate.data.warnings.map((warning) => (
                    <li key={warning}>{warning}</li>
                  ))}
                </ul>
              </Alert>
            )}
          </>
        )}
      </div>
    </Card>
  );
}
