"use client";
// Live preview: generated examples of each split, token by token, computed in the browser
// with the same generators and sequence layout the runners use (packages/tasks).
import * as Tabs from "@radix-ui/react-tabs";
import { useMemo, useState } from "react";
import type { TaskFamilyName, TaskVariantInput } from "@transcend/protocol";
import { Badge, Button, Card, CardHeader, cn } from "@/components/ui";
import { previewSplit, type PreviewToken, type TokenRole } from "../_lib/draft";

const EXAMPLES_PER_SPLIT = 3;

const roleClasses: Record<TokenRole, string> = {
  prompt: "bg-slate-100 text-slate-800 dark:bg-slate-800 dark:text-slate-200",
  marker: "text-slate-500 ring-1 ring-inset ring-slate-300 dark:text-slate-400 dark:ring-slate-600",
  thought: "bg-indigo-100 text-indigo-900 dark:bg-indigo-950 dark:text-indigo-200",
  answer: "bg-emerald-100 text-emerald-900 ring-2 ring-inset ring-emerald-500 dark:bg-emerald-950 dark:text-emerald-200",
};

function describeToken(token: PreviewToken): string {
  if (token.rewarded) return "answer: supervised in pretraining, read by the verifier for GRPO's reward";
  if (token.supervised) return token.role === "thought" ? "chain of thought: supervised in pretraining, not rewarded" : "marker: supervised";
  return "prompt: conditioned on; supervised only when the recipe's loss is on all tokens";
}

function Token({ token }: { token: PreviewToken }) {
  return (
    <span
      title={describeToken(token)}
      data-role={token.role}
      className={cn("inline-block rounded px-1.5 py-0.5 font-mono text-xs leading-5", roleClasses[token.role], token.supervised && "underline decoration-dotted underline-offset-4")}
    >
      {token.text}
    </span>
  );
}

export function Legend() {
  const items: [TokenRole, string][] = [
    ["prompt", "prompt (conditioned on)"],
    ["thought", "chain of thought (supervised)"],
    ["answer", "answer (supervised and rewarded)"],
    ["marker", "layout marker"],
  ];
  return (
    <ul aria-label="Token legend" className="flex flex-wrap gap-x-4 gap-y-1 text-xs text-slate-600 dark:text-slate-400">
      {items.map(([role, label]) => (
        <li key={role} className="inline-flex items-center gap-1.5">
          <span aria-hidden className={cn("inline-block h-3 w-5 rounded", roleClasses[role])} />
          {label}
        </li>
      ))}
      <li className="inline-flex items-center gap-1.5">
        <span aria-hidden className="underline decoration-dotted underline-offset-4">abc</span>
        supervised in pretraining whatever the recipe
      </li>
    </ul>
  );
}

export function VariantPreview({
  family,
  splits,
  chainOfThought,
}: {
  family: TaskFamilyName;
  splits: TaskVariantInput["splits"];
  chainOfThought: boolean;
}) {
  const [seed, setSeed] = useState(1);
  const key = JSON.stringify(splits);
  const previews = useMemo(
    () =>
      splits.map((split, index) => ({
        index,
        name: split.name || `split ${index + 1}`,
        axis: split.axis,
        preview: previewSplit(family, split, { chainOfThought, seed, count: EXAMPLES_PER_SPLIT }),
      })),
    // `key` stands for `splits`: react-hook-form hands out a new array on every render.
    [family, key, chainOfThought, seed],
  );
  const [tab, setTab] = useState("0");
  const selected = previews.some((p) => String(p.index) === tab) ? tab : "0";

  return (
    <Card aria-labelledby="preview-heading">
      <CardHeader
        id="preview-heading"
        title="Live preview"
        description="Generated examples of each split, as the runners will see them."
        actions={
          <Button variant="secondary" size="sm" onClick={() => setSeed((value) => value + 1)}>
            New examples
          </Button>
        }
      />
      <Legend />
      <Tabs.Root value={selected} onValueChange={setTab} className="mt-4">
        <Tabs.List aria-label="Splits" className="flex flex-wrap gap-1 border-b border-slate-200 dark:border-slate-800">
          {previews.map((p) => (
            <Tabs.Trigger
              key={p.index}
              value={String(p.index)}
              className="-mb-px rounded-t-md border-b-2 border-transparent px-3 py-1.5 text-sm font-medium text-slate-600 hover:text-slate-900 focus-visible:outline-2 focus-visible:outline-indigo-500 data-[state=active]:border-indigo-600 data-[state=active]:text-indigo-700 dark:text-slate-400 dark:hover:text-white dark:data-[state=active]:text-indigo-300"
            >
              {p.name}
            </Tabs.Trigger>
          ))}
        </Tabs.List>
        {previews.map((p) => (
          <Tabs.Content key={p.index} value={String(p.index)} className="pt-4 focus-visible:outline-2 focus-visible:outline-indigo-500">
            <div className="mb-3 flex flex-wrap items-center gap-2 text-xs text-slate-500 dark:text-slate-400">
              <Badge mono>{p.axis}</Badge>
              {p.preview.ok && <span>at most {p.preview.maxTokens} tokens per sequence</span>}
            </div>
            {p.preview.ok ? (
              <ol className="space-y-3" aria-label={`Examples of split ${p.name}`}>
                {p.preview.examples.map((example, index) => (
                  <li key={index} className="flex flex-wrap gap-1 rounded-lg border border-slate-200 p-3 dark:border-slate-800">
                    <span className="sr-only">{example.tokens.map((t) => t.text).join(" ")}</span>
                    <span aria-hidden className="contents">
                      {example.tokens.map((token, tokenIndex) => (
                        <Token key={tokenIndex} token={token} />
                      ))}
                    </span>
                  </li>
                ))}
              </ol>
            ) : (
              <p className="rounded-lg border border-dashed border-amber-300 px-3 py-4 text-sm text-amber-800 dark:border-amber-800 dark:text-amber-300">
                No preview until this split&apos;s parameters are valid — {p.preview.problem}
              </p>
            )}
          </Tabs.Content>
        ))}
      </Tabs.Root>
    </Card>
  );
}
