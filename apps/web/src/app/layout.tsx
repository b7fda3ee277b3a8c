import type { Metadata } from "next";
import Link from "next/link";
import type { ReactNode } from "react";
import { TRPCReactProvider } from "@/trpc/react";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Transcend", template: "%s · Transcend" },
  description: "Does GRPO take a model beyond what its pretraining made possible? An open platform that measures it.",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body className="min-h-screen bg-white font-sans text-slate-900 antialiased dark:bg-slate-950 dark:text-slate-100">
        <TRPCReactProvider>
          <div className="flex min-h-screen flex-col">
            <header className="border-b border-slate-200 dark:border-slate-800">
              <nav aria-label="Main" className="mx-auto flex max-w-5xl items-center justify-between px-4 py-3 sm:px-6">
                <Link href="/" className="flex items-center gap-2 font-semibold tracking-tight">
                  <span aria-hidden className="inline-block h-5 w-5 rounded bg-gradient-to-br from-indigo-500 to-emerald-400" />
                  Transcend
                </Link>
                <Link
                  href="/leaderboard"
                  className="rounded-md px-3 py-1.5 text-sm font-medium text-slate-600 hover:bg-slate-100 hover:text-slate-900 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-slate-300 dark:hover:bg-slate-800 dark:hover:text-white"
                >
                  Leaderboard
                </Link>
              </nav>
            </header>
            <main className="mx-auto w-full max-w-5xl flex-1 px-4 py-10 sm:px-6">{children}</main>
            <footer className="border-t border-slate-200 py-6 text-center text-xs text-slate-500 dark:border-slate-800 dark:text-slate-400">
              Built on Ni, Tan, Liu, Li &amp; Chen,{" "}
              <a className="underline hover:text-slate-700 dark:hover:text-slate-200" href="https://arxiv.org/abs/2510.15990">
                “Can GRPO Help LLMs Transcend Their Pretraining Origin?”
              </a>{" "}
              (2025).
            </footer>
          </div>
        </TRPCReactProvider>
      </body>
    </html>
  );
}
