import type { Metadata } from "next";
import Link from "next/link";
import { redirect } from "next/navigation";
import { currentUser } from "@/app/_lib/session";
import { safeNextPath } from "@/app/_lib/next-path";
import { AuthCard } from "../_components/auth-card";
import { SignInForm } from "../_components/sign-in-form";

export const metadata: Metadata = { title: "Sign in" };

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ next?: string | string[] }> }) {
  const { next: rawNext } = await searchParams;
  const next = safeNextPath(typeof rawNext === "string" ? rawNext : undefined);
  if (await currentUser()) redirect(next);
  return (
    <AuthCard
      title="Sign in"
      description="Welcome back."
      footer={
        <>
          No account yet?{" "}
          <Link className="font-semibold text-indigo-600 hover:underline dark:text-indigo-400" href={`/sign-up?next=${encodeURIComponent(next)}`}>
            Create one
          </Link>
        </>
      }
    >
      <SignInForm next={next} />
    </AuthCard>
  );
}
