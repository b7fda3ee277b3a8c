"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { Alert, Badge, Button, ButtonLink, Card, CardHeader, ConfirmDialog, CopyButton, EmptyState, Field, Input, PageHeader, SkeletonRows, Table, TBody, Td, Th, Tr, type BadgeTone } from "@/components/ui";
import { useSession } from "@/lib/auth-client";
import { useTRPC } from "@/trpc/react";
import { formatAgo } from "../../runs/_lib/run-view";
import { useNow } from "../../runs/_components/use-now";
import { defaultRunnerName, runnerCommands } from "../_lib/register-command";

const STATUS_TONE: Record<string, BadgeTone> = { idle: "success", busy: "info", offline: "neutral", revoked: "danger" };

function formatMemory(bytes: number | null): string | null {
  if (bytes === null) return null;
  return `${(bytes / 2 ** 30).toFixed(bytes < 10 * 2 ** 30 ? 1 : 0)} GiB`;
}

/** Register a runner (the one-time command), see every runner's status, revoke one. */
export function RunnersView() {
  const session = useSession();
  if (session.isPending) {
    return (
      <div className="space-y-8">
        <Header />
        <SkeletonRows rows={3} label="Loading your runners" />
      </div>
    );
  }
  if (!session.data) {
    return (
      <div className="space-y-8">
        <Header />
        <EmptyState title="Sign in to host a runner" action={<ButtonLink href="/sign-in?next=/runners">Sign in</ButtonLink>}>
          A runner is a daemon on your own machine that trains the runs in the queue. Sign in to create its one-time
          registration command.
        </EmptyState>
      </div>
    );
  }
  return (
    <div className="space-y-8">
      <Header />
      <RegisterCard />
      <RunnerTable />
    </div>
  );
}

function Header() {
  return (
    <PageHeader
      title="Runners"
      description="Runners are daemons on your own machines that pretrain, GRPO-train and evaluate runs from the queue. The server grades their answers itself; their training curves are shown as self-reported."
    />
  );
}

function RegisterCard() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [name, setName] = useState(defaultRunnerName);
  const create = useMutation(
    trpc.runners.createRegistrationToken.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.runners.list.queryKey() }),
    }),
  );
  const trimmed = name.trim();
  const nameError = trimmed.length === 0 ? "Give the runner a name." : trimmed.length > 100 ? "At most 100 characters." : undefined;
  const command = create.data && runnerCommands(create.data.command);

  return (
    <Card aria-labelledby="register-heading">
      <CardHeader
        id="register-heading"
        title="Register a runner"
        description="Creates a one-time registration token. Run the command on the machine that should train: it exchanges the token for the runner's own credential and starts the daemon."
      />
      <form
        className="flex flex-col gap-3 sm:flex-row sm:items-end"
        onSubmit={(event) => {
          event.preventDefault();
          if (nameError === undefined) create.mutate({ name: trimmed });
        }}
      >
        <div className="sm:w-72">
          <Field label="Runner name" error={nameError}>
            <Input name="runnerName" value={name} maxLength={100} onChange={(event) => setName(event.target.value)} autoComplete="off" />
          </Field>
        </div>
        <Button type="submit" pending={create.isPending} disabled={nameError !== undefined}>
          Create registration command
        </Button>
      </form>
      {create.error && (
        <Alert tone="error" className="mt-4">
          {create.error.message}
        </Alert>
      )}
      {create.data && command && (
        <div className="mt-5 space-y-2" data-testid="register-command">
          <div className="flex items-center justify-between gap-2">
            <p className="text-sm font-medium">Run this on the runner&apos;s machine, in a checkout of Transcend after <code>npm install</code>:</p>
            <CopyButton text={command} label="Copy command" />
          </div>
          <pre className="overflow-x-auto whitespace-pre-wrap break-all rounded-lg bg-slate-950 p-4 font-mono text-xs leading-relaxed text-slate-100">
            <code>{command}</code>
          </pre>
          <p className="text-xs text-slate-500 dark:text-slate-400">
            The token is shown only now and works once; it expires{" "}
            <time dateTime={create.data.expiresAt.toISOString()}>{create.data.expiresAt.toLocaleTimeString()}</time>. The runner
            appears below as soon as it connects.
          </p>
        </div>
      )}
    </Card>
  );
}

function RunnerTable() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  // Heartbeats arrive every few seconds; a short poll keeps idle/busy/offline current.
  const runners = useQuery({ ...trpc.runners.list.queryOptions(), refetchInterval: 5_000 });
  const revoke = useMutation(
    trpc.runners.revoke.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.runners.list.queryKey() }),
    }),
  );
  const now = useNow(5_000);

  if (runners.isPending) return <SkeletonRows rows={2} label="Loading your runners" />;
  if (runners.error) return <Alert tone="error">Could not load your runners: {runners.error.message}</Alert>;
  if (runners.data.length === 0) {
    return (
      <EmptyState title="No runners yet">
        Create a registration command above and run it on a machine with Node.js 20. It connects, says which backend and
        device it has, and takes runs from the queue.
      </EmptyState>
    );
  }

  return (
    <section aria-labelledby="runners-heading" className="space-y-3">
      <h2 id="runners-heading" className="text-lg font-semibold tracking-tight">
        Your runners
      </h2>
      {revoke.error && <Alert tone="error">{revoke.error.message}</Alert>}
      <Table data-testid="runners-table">
        <thead>
          <tr>
            <Th>Name</Th>
            <Th>Status</Th>
            <Th>Backend</Th>
            <Th>Device</Th>
            <Th>Current run</Th>
            <Th>Last heartbeat</Th>
            <Th>
              <span className="sr-only">Actions</span>
            </Th>
          </tr>
        </thead>
        <TBody>
          {runners.data.map((runner) => (
            <Tr key={runner.id} data-runner-status={runner.status}>
              <Td className="font-medium">{runner.name}</Td>
              <Td>
                <Badge tone={STATUS_TONE[runner.status] ?? "neutral"}>{runner.status}</Badge>
              </Td>
              <Td>
                {runner.backend ? <span className="font-mono text-xs">{runner.backend}</span> : <span className="text-slate-400">—</span>}
                {runner.matmulPath && <span className="block text-xs text-slate-500">matmul: {runner.matmulPath}</span>}
              </Td>
              <Td className="text-xs">
                {runner.device ?? <span className="text-slate-400">—</span>}
                {(runner.cores !== null || runner.memoryBytes !== null) && (
                  <span className="block text-slate-500">
                    {[runner.cores !== null ? `${runner.cores} cores` : null, formatMemory(runner.memoryBytes), runner.gflops !== null ? `${runner.gflops.toFixed(1)} GFLOP/s` : null]
                      .filter(Boolean)
                      .join(" · ")}
                  </span>
                )}
              </Td>
              <Td>
                {runner.currentRunId ? (
                  <Link href={`/runs/${runner.currentRunId}`} className="font-mono text-xs text-indigo-600 underline-offset-2 hover:underline dark:text-indigo-400">
                    {runner.currentRunId.slice(0, 8)}
                  </Link>
                ) : (
                  <span className="text-slate-400">—</span>
                )}
              </Td>
              <Td className="whitespace-nowrap text-xs text-slate-600 dark:text-slate-400">
                {runner.lastSeenAt ? (
                  <time dateTime={runner.lastSeenAt.toISOString()} title={runner.lastSeenAt.toLocaleString()} suppressHydrationWarning>
                    {formatAgo(runner.lastSeenAt, now)}
                  </time>
                ) : (
                  "never connected"
                )}
              </Td>
              <Td className="text-right">
                {runner.status !== "revoked" && (
                  <ConfirmDialog
                    trigger={
                      <Button variant="ghost" size="sm" aria-label={`Revoke ${runner.name}`}>
                        Revoke
                      </Button>
                    }
                    title={`Revoke ${runner.name}?`}
                    description={
                      <p>
                        Its credential stops working at once and its connection is closed. A run it is training goes back to the
                        queue. To use the machine again, register it anew.
                      </p>
                    }
                    confirmLabel="Revoke runner"
                    onConfirm={() => revoke.mutateAsync({ runnerId: runner.id })}
                  />
                )}
              </Td>
            </Tr>
          ))}
        </TBody>
      </Table>
    </section>
  );
}
