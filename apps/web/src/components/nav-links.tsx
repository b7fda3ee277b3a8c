"use client";
// The site's main links: marks the current page, and folds into a menu on a phone.
import Link from "next/link";
import { usePathname } from "next/navigation";
import { useEffect, useState, type ReactNode } from "react";
import { cn } from "./ui/cn";

export interface NavLink {
  href: string;
  label: string;
}

const linkClass = (active: boolean) =>
  cn(
    "rounded-md px-3 py-1.5 text-sm font-medium focus-visible:outline-2 focus-visible:outline-indigo-500",
    active
      ? "bg-slate-100 text-slate-900 dark:bg-slate-800 dark:text-white"
      : "text-slate-600 hover:bg-slate-100 hover:text-slate-900 dark:text-slate-300 dark:hover:bg-slate-800 dark:hover:text-white",
  );

export function NavLinks({ links, trailing }: { links: NavLink[]; trailing?: ReactNode }) {
  const pathname = usePathname();
  const [open, setOpen] = useState(false);
  // A followed link closes the phone menu.
  useEffect(() => setOpen(false), [pathname]);
  const isActive = (href: string) => pathname === href || pathname.startsWith(`${href}/`);
  const items = links.map((link) => (
    <Link key={link.href} href={link.href} aria-current={isActive(link.href) ? "page" : undefined} className={linkClass(isActive(link.href))}>
      {link.label}
    </Link>
  ));
  return (
    <>
      <div className="hidden items-center gap-1 md:flex">{items}</div>
      <div className="flex items-center gap-1">
        {trailing}
        <button
          type="button"
          className="inline-flex h-9 w-9 items-center justify-center rounded-md text-slate-600 hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-indigo-500 md:hidden dark:text-slate-300 dark:hover:bg-slate-800"
          aria-expanded={open}
          aria-controls="mobile-menu"
          onClick={() => setOpen((value) => !value)}
        >
          <span className="sr-only">{open ? "Close menu" : "Open menu"}</span>
          <svg aria-hidden width="20" height="20" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round">
            {open ? <path d="M6 6l12 12M18 6L6 18" /> : <path d="M4 7h16M4 12h16M4 17h16" />}
          </svg>
        </button>
      </div>
      {open && (
        <div id="mobile-menu" className="absolute inset-x-0 top-full z-30 flex flex-col gap-1 border-b border-slate-200 bg-white p-3 shadow-md md:hidden dark:border-slate-800 dark:bg-slate-950">
          {items}
        </div>
      )}
    </>
  );
}
