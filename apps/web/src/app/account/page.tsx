import type { Metadata } from "next";
import { Card, CardHeader, PageHeader } from "@/components/ui";
import { requireUser } from "@/app/_lib/session";
import { TokensPanel } from "./_components/tokens-panel";

export const metadata: Metadata = { title: "Account" };

export default async function AccountPage() {
  const user = await requireUser("/account");
  return (
    <div className="space-y-8">
      <PageHeader title="Account" description="Your account, and the personal access tokens that let scripts use the HTTP API as you." />
      <Card aria-labelledby="profile">
        <CardHeader id="profile" title="Profile" />
        <dl className="grid gap-3 text-sm sm:grid-cols-[8rem_1fr]">
          <dt className="text-slate-500 dark:text-slate-400">Name</dt>
          <dd className="font-medium">{user.name}</dd>
          <dt className="text-slate-500 dark:text-slate-400">Email</dt>
          <dd className="font-medium">{user.email}</dd>
        </dl>
      </Card>
      <TokensPanel />
    </div>
  );
}
