"use client";
// Accounts in the browser: better-auth's React client against /api/auth on this origin.
//   const { data: session, isPending } = useSession();
//   await signUp.email({ name, email, password });   // signs in too
//   await signIn.email({ email, password });
//   await signOut();
// Each call resolves to { data, error }; error.message is meant for a person.
import { createAuthClient } from "better-auth/react";

export const authClient = createAuthClient({ basePath: "/api/auth" });

export const { signIn, signUp, signOut, useSession, getSession } = authClient;
