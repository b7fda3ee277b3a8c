"use client";
// Personal access tokens: create (the token is shown once, here), list, revoke.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import {
  Alert,
  Badge,
  Button,
  Card,
  CardHeader,
  ConfirmDialog,
  CopyButton,
  EmptyState,
  Field,
  Input,
  Select,
  SkeletonRows,
  TBody,
  Table,
  Td,
  Th,
  Tr,
} from "@/components/ui";
import { useTRPC } from "@/trpc/react";
import { formatDate, formatRelative } from "@/components/format";

const EXPIRY_CHOICES = [
  { value: "30", label: "30 days" },
  { value: "90", label: "90 days" },
  { value: "366", label: "One year" },
  { value: "", label: "Never" },
];

export function TokensPanel() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const tokens = useQuery(trpc.tokens.list.queryOptions());
  const [name, setName] = useState("");
  const [expiry, setExpiry] = useState("90");
  const [created, setCreated] = useState<{ name: string; token: string }>();
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.tokens.list.queryKey() });
  const create = useMutation(
    trpc.tokens.create.mutationOptions({
      onSuccess: (token) => {
        setCreated({ name: token.name, token: token.token });
        setName("");
        void refresh();
      },
    }),
  );
  const revoke = useMutation(trpc.tokens.revoke.mutationOptions({ onSuccess: () => void refresh() }));
  const nameIssue = create.error?.data?.issues?.find((issue) => issue.path === "name")?.message;

  return (
    <Card aria-labelledby="tokens">
      <CardHeader
        id="tokens"
        title="Personal access tokens"
        description={
          <>
            Send one as <code className="font-mono text-xs">Authorization: Bearer &lt;token&gt;</code> to call the API as you. Only
            its first characters are kept readable; the server stores a hash.
          </>
        }
      />
      <form
        className="grid gap-3 sm:grid-cols-[1fr_10rem_auto] sm:items-start"
        onSubmit={(event) => {
          event.preventDefault();
          setCreated(undefined);
          create.mutate({ name, expiresInDays: expiry === "" ? undefined : Number(expiry) });
        }}
      >
        <Field label="Token name" hint="what it is for, e.g. “laptop script”; up to 100 characters" error={nameIssue}>
          <Input value={name} maxLength={100} required onChange={(event) => setName(event.target.value)} autoComplete="off" />
        </Field>
        <Field label="Expires after">
          <Select value={expiry} onChange={(event) => setExpiry(event.target.value)}>
            {EXPIRY_CHOICES.map((choice) => (
              <option key={choice.label} value={choice.value}>
                {choice.label}
              </option>
            ))}
          </Select>
        </Field>
        <Button type="submit" className="sm:mt-7" pending={create.isPending} disabled={name.trim() === ""}>
          Create token
        </Button>
      </form>
      {create.error && !nameIssue && (
        <Alert tone="error" className="mt-3">
          {create.error.message}
        </Alert>
      )}
      {created && (
        <Alert tone="success" title={`Token “${created.name}” created — copy it now, it is not shown again`} className="mt-4">
          <div className="mt-2 flex flex-wrap items-center gap-2">
            <code data-testid="new-token" className="min-w-0 flex-1 break-all rounded bg-white px-2 py-1 font-mono text-xs text-slate-900 dark:bg-slate-950 dark:text-slate-100">
              {created.token}
            </code>
            <CopyButton text={created.token} />
          </div>
        </Alert>
      )}

      <div className="mt-6">
        {tokens.isPending ? (
          <SkeletonRows rows={2} label="Loading tokens" rowClassName="h-12" />
        ) : tokens.isError ? (
          <Alert tone="error">{tokens.error.message}</Alert>
        ) : tokens.data.length === 0 ? (
          <EmptyState title="No tokens yet">Create one above when a script needs to submit runs or read results as you.</EmptyState>
        ) : (
          <Table>
            <thead>
              <tr>
                <Th>Name</Th>
                <Th>Token</Th>
                <Th>Created</Th>
                <Th>Last used</Th>
                <Th>Expires</Th>
                <Th>
                  <span className="sr-only">Actions</span>
                </Th>
              </tr>
            </thead>
            <TBody>
              {tokens.data.map((token) => (
                <Tr key={token.id}>
                  <Td className="font-medium">{token.name}</Td>
                  <Td className="font-mono text-xs">{token.prefix}…</Td>
                  <Td className="whitespace-nowrap">{formatDate(token.createdAt)}</Td>
                  <Td className="whitespace-nowrap">{token.lastUsedAt ? formatRelative(token.lastUsedAt) : "never"}</Td>
                  <Td className="whitespace-nowrap">{token.expiresAt ? formatDate(token.expiresAt) : "never"}</Td>
                  <Td className="text-right">
                    {token.revokedAt ? (
                      <Badge tone="danger">revoked</Badge>
                    ) : (
                      <ConfirmDialog
                        trigger={
                          <Button variant="ghost" size="sm">
                            Revoke<span className="sr-only"> {token.name}</span>
                          </Button>
                        }
                        title={`Revoke “${token.name}”?`}
                        description="Scripts using this token stop working at once. This cannot be undone."
                        confirmLabel="Revoke token"
                        onConfirm={() => revoke.mutateAsync({ id: token.id })}
                      />
                    )}
                  </Td>
                </Tr>
              ))}
            </TBody>
          </Table>
        )}
      </div>
    </Card>
  );
}
