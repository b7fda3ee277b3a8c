// What Next's /api/auth/[...all] route does (app/api/auth/[...all]/route.ts), without
// building Next: hands a request under /api/auth/ to better-auth's handler, for hardening
// tests that meet better-auth over real HTTP through the real server.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Auth } from "../auth";

export async function authRoute(auth: Auth, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) if (typeof value === "string") headers.set(name, value);
  const url = new URL(request.url ?? "/", `http://${request.headers.host ?? "127.0.0.1"}`);
  const answer = url.pathname.startsWith("/api/auth/")
    ? await auth.handler(new Request(url, { method: request.method, headers, body: request.method === "GET" || request.method === "HEAD" ? undefined : Buffer.concat(chunks) }))
    : new Response("not found", { status: 404 });
  // Each Set-Cookie stays its own header (a plain object would keep only the last one).
  for (const [name, value] of answer.headers) if (name !== "set-cookie") response.setHeader(name, value);
  const cookies = answer.headers.getSetCookie();
  if (cookies.length > 0) response.setHeader("set-cookie", cookies);
  response.writeHead(answer.status);
  response.end(Buffer.from(await answer.arrayBuffer()));
}
