// HTTP Strict Transport Security, only when the site is served over TLS (TRANSCEND_HTTPS=1,
// e.g. behind a TLS-terminating proxy). Sent from here rather than next.config.ts because
// next.config's headers are fixed when the app is built, and whether it sits behind TLS is
// decided where it is started. Plain-HTTP installs (the embedded default) must not send it:
// browsers would then refuse to reach them at all.
import { NextResponse } from "next/server";

export const HSTS_VALUE = "max-age=63072000; includeSubDomains";

export function behindTls(env: Record<string, string | undefined> = process.env): boolean {
  return env.TRANSCEND_HTTPS === "1" || env.TRANSCEND_HTTPS === "true";
}

export function proxy() {
  const response = NextResponse.next();
  if (behindTls()) response.headers.set("Strict-Transport-Security", HSTS_VALUE);
  return response;
}

export const config = {
  // Pages and API routes; static assets are immutable files that need no HSTS of their own.
  matcher: ["/((?!_next/static|_next/image|favicon.ico).*)"],
};
