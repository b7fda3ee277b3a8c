"use client";
// The signed-in user's corner of the header: their account page, and signing out.
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { signOut } from "@/lib/auth-client";
import { Button } from "./ui/button";

export function UserMenu({ user }: { user: { name: string; email: string } }) {
  const router = useRouter();
  const [pending, setPending] = useState(false);
  return (
    <div className="flex items-center gap-1">
      <Link
        href="/account"
        title={user.email}
        className="inline-block max-w-24 truncate rounded-md px-2 py-1.5 text-sm font-medium text-slate-700 hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-indigo-500 sm:max-w-40 dark:text-slate-200 dark:hover:bg-slate-800"
      >
        {user.name}
      </Link>
      <Button
        variant="ghost"
        size="sm"
        pending={pending}
        onClick={async () => {
          setPending(true);
          try {
            await signOut();
            // Server components read the session: render them again without it.
            router.push("/");
            router.refresh();
          } finally {
            setPending(false);
          }
        }}
      >
        Sign out
      </Button>
    </div>
  );
}
