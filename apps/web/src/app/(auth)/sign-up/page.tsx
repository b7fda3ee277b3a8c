import type { Metadata } from "next";
import Link from "next/link";
import { redirect } from "next/navigation";
import { currentUser } from "@/app/_lib/session";
import { safeNextPath } from "@/app/_lib/next-path";
import { AuthCard } from "../_components/auth-card";
import { SignUpForm } from "../_components/sign-up-form";

export const metadata: Metadata = { title: "Sign up" };

export default async function SignUpPage({ searchParams }: { searchParams: Promise<{ next?: string | string[] }> }) {
  const { next: rawNext } = await searchParams;
  const next = safeNextPath(typeof rawNext === "string" ? rawNext : undefined);
  if (await currentUser()) redirect(next);
  return (
    <AuthCard
      title="Create an account"
      description="Browsing the leaderboard needs none; registering task variants, recipes, runs and runners does."
      footer={
        <>
          Already have an account?{" "}
          <Link className="font-semibold text-indigo-600 hover:underline dark:text-indigo-400" href={`/sign-in?next=${encodeURIComponent(next)}`}>
            Sign in
          </Link>
        </>
      }
    >
      <SignUpForm next={next} />
    </AuthCard>
  );
}
