import type { Metadata } from "next";
import { cookies } from "next/headers";
import type { ReactNode } from "react";
import { SiteHeader } from "@/components/site-header";
import { THEME_COOKIE, parseTheme } from "@/components/theme";
import { TRPCReactProvider } from "@/trpc/react";
import { currentUser } from "./_lib/session";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Transcend", template: "%s · Transcend" },
  description: "Does GRPO take a model beyond what its pretraining made possible? An open platform that measures it.",
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  // The header shows who is signed in and the chosen theme, both read on the server so the
  // first paint is already right (no flash, no layout shift).
  const cookieStore = await cookies();
  const user = await currentUser();
  const theme = parseTheme(cookieStore.get(THEME_COOKIE)?.value);
  return (
    <html lang="en" className={theme === "system" ? undefined : theme}>
      <body className="min-h-screen bg-white font-sans text-slate-900 antialiased dark:bg-slate-950 dark:text-slate-100">
        <a
          href="#main"
          className="sr-only focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:z-50 focus:rounded-md focus:bg-indigo-600 focus:px-3 focus:py-2 focus:text-sm focus:text-white"
        >
          Skip to content
        </a>
        <TRPCReactProvider>
          <div className="flex min-h-screen flex-col">
            <SiteHeader user={user && { name: user.name, email: user.email }} theme={theme} />
            <main id="main" className="mx-auto w-full max-w-6xl flex-1 px-4 py-10 sm:px-6">
              {children}
            </main>
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
