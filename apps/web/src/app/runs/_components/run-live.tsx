"use client";
// The run page's data: `runs.get` refetched whenever the run changes. Changes arrive over
// the `runs.onUpdate` SSE subscription; while it is not connected (or the server has no
// event source) the page polls instead, so it is live either way, without a reload.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { createTRPCClient, httpSubscriptionLink } from "@trpc/client";
import { useRouter } from "next/navigation";
import { useEffect, useMemo, useRef, useState } from "react";
import superjson from "superjson";
import { Alert, Button, ButtonLink, ConfirmDialog, EmptyState, Skeleton, SkeletonRows } from "@/components/ui";
import { useSession } from "@/lib/auth-client";
import type { AppRouter, RouterOutputs } from "@/server/routers/_app";
import { useTRPC } from "@/trpc/react";
import { isTerminal } from "../_lib/run-view";
import { RunPageView, type RunPageModel, type RunResultsModel } from "./run-page-view";

type RunDetail = RouterOutputs["runs"]["get"];
type RunResults = RouterOutputs["results"]["run"];
type Channel = "connecting" | "live" | "polling" | "ended";

/** Poll this often while the live channel is down; a state lasts seconds at the least. */
const POLL_MS = 2_000;
/** With the live channel up, an occasional refetch still catches anything it missed. */
const LIVE_SAFETY_POLL_MS = 15_000;
/** Progress events can come many times a second; refetch at most this often. */
const REFETCH_THROTTLE_MS = 750;
/** The log is read back at most this long (runs.get); a full window means older lines were cut. */
const LOG_WINDOW_BYTES = 64 * 1024;

export function toRunPageModel(run: RunDetail, klBeta: number | null): RunPageModel {
  const lastAttempt = run.attempts[run.attempts.length - 1];
  const lastTransition = run.timeline[run.timeline.length - 1];
  return {
    id: run.id,
    state: run.state,
    seed: run.seed,
    attempt: run.attempt,
    createdAt: run.createdAt,
    finishedAt: run.finishedAt,
    variant: run.variant,
    recipe: { ...run.recipe, klBeta },
    runner: lastAttempt ? { name: lastAttempt.runnerName, backend: lastAttempt.backend, device: lastAttempt.device } : null,
    reproducesRunId: run.reproducesRunId,
    transitions: run.timeline,
    queuedReason: run.queuedReason,
    metrics: run.metrics.flatMap((series) => series.points.map((point) => ({ phase: series.phase, name: series.name, ...point }))),
    log: { text: run.log.text, truncated: new TextEncoder().encode(run.log.text).length >= LOG_WINDOW_BYTES - 1024 },
    checkpoints: run.checkpoints.map((checkpoint) => ({
      ...checkpoint,
      url: `/api/runs/${run.id}/attempts/${run.attempt}/artifacts/${encodeURIComponent(checkpoint.name)}`,
    })),
    error: run.state === "failed" ? (lastAttempt?.error ?? lastTransition?.reason ?? null) : null,
  };
}

function toResultsModel(state: string, results: { data?: RunResults; isPending: boolean; error: { message: string } | null }): RunResultsModel {
  if (state !== "graded") return { status: "not-graded" };
  if (results.error) return { status: "error", message: results.error.message };
  if (!results.data) return { status: "loading" };
  // Graded but its results row not written yet (grading finishing): keep the loading state.
  if (!results.data.graded) return { status: "loading" };
  const { splits, items, klBeta, downloadUrl } = results.data;
  return { status: "ready", rows: splits, items, beta: klBeta ?? 0.04, downloadUrl };
}

/** Subscribes to `runs.onUpdate` while the run can still change; calls `onChange` on every event. */
function useRunUpdates(runId: string, enabled: boolean, onChange: () => void): Channel {
  const [channel, setChannel] = useState<Channel>("connecting");
  const onChangeRef = useRef(onChange);
  useEffect(() => {
    onChangeRef.current = onChange;
  }, [onChange]);

  useEffect(() => {
    if (!enabled) {
      setChannel("ended");
      return;
    }
    setChannel("connecting");
    // A client of its own: subscriptions go over SSE (EventSource), queries keep the batch link.
    const client = createTRPCClient<AppRouter>({ links: [httpSubscriptionLink({ url: "/api/trpc", transformer: superjson })] });
    let throttle: ReturnType<typeof setTimeout> | undefined;
    const changed = () => {
      if (throttle !== undefined) return;
      throttle = setTimeout(() => {
        throttle = undefined;
        onChangeRef.current();
      }, REFETCH_THROTTLE_MS);
    };
    const subscription = client.runs.onUpdate.subscribe(
      { runId },
      {
        onStarted: () => setChannel("live"),
        onData: () => {
          setChannel("live");
          changed();
        },
        // The server closes the stream when the run ends or has no event source; poll from then on.
        onComplete: () => {
          setChannel("polling");
          onChangeRef.current();
        },
        onError: () => setChannel("polling"),
        onConnectionStateChange: (state) => {
          if (state.state === "connecting" && state.error) setChannel("polling");
          if (state.state === "pending") setChannel("live");
        },
      },
    );
    return () => {
      subscription.unsubscribe();
      if (throttle !== undefined) clearTimeout(throttle);
    };
  }, [runId, enabled]);

  return enabled ? channel : "ended";
}

const CONNECTION_LABELS: Record<Channel, string> = {
  connecting: "connecting…",
  live: "● live",
  polling: "updating every 2 s",
  ended: "",
};

export function RunLive({ runId }: { runId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const router = useRouter();
  const session = useSession();
  const runKey = trpc.runs.get.queryKey({ runId });
  const [terminal, setTerminal] = useState(false);

  const channel = useRunUpdates(runId, !terminal, () => void queryClient.invalidateQueries({ queryKey: runKey }));
  const run = useQuery({
    ...trpc.runs.get.queryOptions({ runId }),
    refetchInterval: (query) => {
      const state = query.state.data?.state;
      if (state !== undefined && isTerminal(state)) return false;
      return channel === "live" ? LIVE_SAFETY_POLL_MS : POLL_MS;
    },
    // A page left open in a background tab should still be current when it comes back.
    refetchIntervalInBackground: false,
    refetchOnWindowFocus: true,
  });
  const state = run.data?.state;
  useEffect(() => {
    if (state !== undefined) setTerminal(isTerminal(state));
  }, [state]);

  const results = useQuery({
    ...trpc.results.run.queryOptions({ runId }),
    enabled: state === "graded",
    // Grading writes its row in the same transaction that marks the run graded, but a
    // reader can land in between; retry briefly until the numbers are there.
    refetchInterval: (query) => (query.state.data?.graded === false ? POLL_MS : false),
  });

  const cancel = useMutation(
    trpc.runs.cancel.mutationOptions({ onSuccess: () => queryClient.invalidateQueries({ queryKey: runKey }) }),
  );
  const reproduce = useMutation(
    trpc.runs.reproduce.mutationOptions({
      onSuccess: (submitted) => {
        const first = submitted.runs[0];
        if (first) router.push(`/runs/${first.id}`);
      },
    }),
  );

  const klBeta = results.data?.graded ? results.data.klBeta : null;
  const model = useMemo(() => (run.data ? toRunPageModel(run.data, klBeta) : undefined), [run.data, klBeta]);

  if (run.isPending) return <RunSkeleton />;
  if (run.error || !model) {
    const notFound = run.error?.data?.code === "NOT_FOUND";
    return notFound ? (
      <EmptyState title="No such run" action={<ButtonLink href="/runs">All runs</ButtonLink>}>
        There is no run with this id. It may have been mistyped; the runs list has every run.
      </EmptyState>
    ) : (
      <Alert tone="error" title="Could not load this run">
        {run.error?.message ?? "Unknown error"}
      </Alert>
    );
  }

  const signedIn = Boolean(session.data);
  const actions = (
    <>
      {run.data.isMine && !isTerminal(model.state) && (
        <ConfirmDialog
          trigger={<Button variant="secondary">Cancel run</Button>}
          title="Cancel this run?"
          description={<p>The runner stops it within seconds and its lease ends. A cancelled run cannot be resumed; submit it again to retry.</p>}
          confirmLabel="Cancel run"
          onConfirm={() => cancel.mutateAsync({ runId })}
        />
      )}
      {model.state === "graded" && signedIn && (
        <Button
          variant="secondary"
          pending={reproduce.isPending}
          onClick={() => reproduce.mutate({ runId })}
          title="Queue the same task variant, recipe and seed for a runner of another owner; agreeing results earn a verified mark"
        >
          Reproduce
        </Button>
      )}
    </>
  );

  return (
    <div className="space-y-4">
      {(cancel.error ?? reproduce.error) && <Alert tone="error">{(cancel.error ?? reproduce.error)?.message}</Alert>}
      <RunPageView run={model} results={toResultsModel(model.state, results)} actions={actions} connection={CONNECTION_LABELS[channel]} />
    </div>
  );
}

function RunSkeleton() {
  return (
    <div className="space-y-8" role="status" aria-live="polite">
      <span className="sr-only">Loading the run…</span>
      <div className="space-y-3">
        <Skeleton className="h-4 w-24" />
        <Skeleton className="h-9 w-2/3" />
        <Skeleton className="h-4 w-1/3" />
      </div>
      <div className="grid gap-8 lg:grid-cols-3">
        <div className="space-y-4 lg:col-span-2">
          <Skeleton className="h-48 w-full" />
          <Skeleton className="h-40 w-full" />
        </div>
        <SkeletonRows rows={4} rowClassName="h-12" />
      </div>
    </div>
  );
}
