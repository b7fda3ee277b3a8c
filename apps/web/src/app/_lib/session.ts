// Who is looking at a page, for server components: the session cookie's user, or a
// redirect to sign in that brings them back to the page afterwards.
import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { getAuth, sessionUser } from "@/server/auth";
import { safeNextPath } from "./next-path";

export type PageUser = { id: string; name: string; email: string };

export async function currentUser(): Promise<PageUser | null> {
  // Headers first: at build time this marks the page dynamic before the database is needed.
  const requestHeaders = await headers();
  return sessionUser(getAuth(), requestHeaders);
}

/** The signed-in user, or a redirect to /sign-in?next=<back here>. */
export async function requireUser(backTo: string): Promise<PageUser> {
  const user = await currentUser();
  if (user === null) redirect(`/sign-in?next=${encodeURIComponent(safeNextPath(backTo))}`);
  return user;
}
