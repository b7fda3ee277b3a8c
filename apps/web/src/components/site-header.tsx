// The header on every page: the site's links, the theme toggle and who is signed in.
import Link from "next/link";
import { NavLinks, type NavLink } from "./nav-links";
import { ThemeToggle } from "./theme-toggle";
import type { Theme } from "./theme";
import { UserMenu } from "./user-menu";
import { ButtonLink } from "./ui/button";

export interface HeaderUser {
  name: string;
  email: string;
}

const links: NavLink[] = [
  { href: "/leaderboard", label: "Leaderboard" },
  { href: "/variants", label: "Variants" },
  { href: "/recipes", label: "Recipes" },
  { href: "/runs", label: "Runs" },
  { href: "/runners", label: "Runners" },
];

export function SiteHeader({ user, theme }: { user: HeaderUser | null; theme: Theme }) {
  return (
    <header className="relative border-b border-slate-200 dark:border-slate-800">
      <nav aria-label="Main" className="mx-auto flex max-w-6xl items-center justify-between gap-3 px-4 py-3 sm:px-6">
        <Link href="/" className="flex items-center gap-2 rounded-md font-semibold tracking-tight focus-visible:outline-2 focus-visible:outline-indigo-500">
          <span aria-hidden className="inline-block h-5 w-5 rounded bg-gradient-to-br from-indigo-500 to-emerald-400" />
          Transcend
        </Link>
        <NavLinks
          links={links}
          trailing={
            <>
              <ThemeToggle initial={theme} />
              {user ? (
                <>
                  <ButtonLink href="/submit" size="sm" className="hidden sm:inline-flex">
                    Submit runs
                  </ButtonLink>
                  <UserMenu user={user} />
                </>
              ) : (
                <>
                  <ButtonLink href="/sign-in" variant="ghost" size="sm">
                    Sign in
                  </ButtonLink>
                  <ButtonLink href="/sign-up" size="sm" className="hidden sm:inline-flex">
                    Sign up
                  </ButtonLink>
                </>
              )}
            </>
          }
        />
      </nav>
    </header>
  );
}
