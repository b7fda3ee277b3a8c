import Link from "next/link";
import type { ReactNode } from "react";
import { Card, CardHeader } from "@/components/ui";
import { LocalTime } from "./local-time";

export interface RunDetailsModel {
  id: string;
  seed: number;
  attempt: number;
  createdAt: Date;
  finishedAt: Date | null;
  variant: { id: string; name: string; version: number };
  recipe: { id: string; name: string; version: number; klBeta: number | null };
  runner: { name: string; backend: string | null; device: string | null } | null;
  reproducesRunId: string | null;
}

function Row({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="flex justify-between gap-4 py-1.5">
      <dt className="text-slate-500 dark:text-slate-400">{label}</dt>
      <dd className="min-w-0 truncate text-right font-medium">{children}</dd>
    </div>
  );
}

const linkClass = "text-indigo-600 underline-offset-2 hover:underline dark:text-indigo-400";

/** What the run is: task variant and recipe versions, seed, where it ran. */
export function RunDetails({ run }: { run: RunDetailsModel }) {
  return (
    <Card aria-labelledby="details-heading">
      <CardHeader id="details-heading" title="Details" />
      <dl className="divide-y divide-slate-100 text-sm dark:divide-slate-800">
        <Row label="Task variant">
          <Link href={`/variants/${run.variant.id}`} className={linkClass}>
            {run.variant.name} v{run.variant.version}
          </Link>
        </Row>
        <Row label="Recipe">
          <Link href={`/recipes/${run.recipe.id}`} className={linkClass}>
            {run.recipe.name} v{run.recipe.version}
          </Link>
        </Row>
        {run.recipe.klBeta !== null && <Row label="KL weight β">{run.recipe.klBeta}</Row>}
        <Row label="Seed">{run.seed}</Row>
        <Row label="Attempt">{run.attempt === 0 ? "not started" : run.attempt}</Row>
        <Row label="Runner">
          {run.runner ? (
            <span title={[run.runner.backend, run.runner.device].filter(Boolean).join(" · ")}>
              {run.runner.name}
              {run.runner.backend && <span className="ml-1 font-mono text-xs font-normal text-slate-500">{run.runner.backend}</span>}
            </span>
          ) : (
            "—"
          )}
        </Row>
        <Row label="Submitted">
          <LocalTime at={run.createdAt} withDate />
        </Row>
        {run.finishedAt && (
          <Row label="Finished">
            <LocalTime at={run.finishedAt} withDate />
          </Row>
        )}
        {run.reproducesRunId && (
          <Row label="Reproduces">
            <Link href={`/runs/${run.reproducesRunId}`} className={`${linkClass} font-mono text-xs`}>
              {run.reproducesRunId.slice(0, 8)}
            </Link>
          </Row>
        )}
      </dl>
    </Card>
  );
}

export interface CheckpointLink {
  name: string;
  sha256: string;
  sizeBytes: number;
  url: string;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

const CHECKPOINT_LABELS: Record<string, string> = { origin: "Origin (pretrained)", final: "GRPO (final)", grpo: "GRPO (final)" };

/** The origin and GRPO checkpoints the runner uploaded, content-addressed by sha256. */
export function Checkpoints({ checkpoints, live }: { checkpoints: readonly CheckpointLink[]; live: boolean }) {
  return (
    <Card aria-labelledby="checkpoints-heading">
      <CardHeader id="checkpoints-heading" title="Checkpoints" description="safetensors with a JSON config, named by sha256" />
      {checkpoints.length === 0 ? (
        <p className="text-sm text-slate-500 dark:text-slate-400">
          {live ? "The runner uploads the origin checkpoint after pretraining and the GRPO one at the end." : "No checkpoints were uploaded."}
        </p>
      ) : (
        <ul className="space-y-2 text-sm">
          {checkpoints.map((checkpoint) => (
            <li key={checkpoint.name} className="flex items-center justify-between gap-3">
              <a href={checkpoint.url} download className={linkClass}>
                {CHECKPOINT_LABELS[checkpoint.name] ?? checkpoint.name}
              </a>
              <span className="truncate font-mono text-xs text-slate-500" title={checkpoint.sha256}>
                {checkpoint.sha256.slice(0, 12)} · {formatBytes(checkpoint.sizeBytes)}
              </span>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}
