// What the tRPC endpoint accepts before any procedure runs. A browser sends our session
// cookie with any request to us, even one a foreign page makes (a form post, a
// `text/plain` fetch needs no CORS preflight), so a state-changing request that relies
// on the cookie must come from our own origin as JSON. A personal access token is not
// sent by browsers on their own, so token requests without cookies may come from anywhere.
import { bearerTokenOf } from "./request-context";

/** Largest request body the API reads (a task variant or recipe is a few KiB). */
export const MAX_BODY_BYTES = 1024 * 1024;

export type GuardResult = { ok: true; request: Request } | { ok: false; response: Response };

const refuse = (status: number, message: string): GuardResult => ({
  ok: false,
  response: new Response(JSON.stringify({ error: { message } }), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" },
  }),
});

/** Whether `origin` (an Origin header value) is this site: the public URL, or the host the request was sent to. */
export function isOwnOrigin(origin: string, request: Request, publicOrigin: string | undefined): boolean {
  if (origin === "null") return false;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  if (publicOrigin !== undefined && parsed.origin === publicOrigin) return true;
  if (parsed.origin === new URL(request.url).origin) return true;
  // Behind a TLS-terminating proxy the request URL says http while the browser says https;
  // the Host header is what the browser connected to, and a page cannot forge it.
  const host = request.headers.get("host");
  return host !== null && parsed.host === host.toLowerCase();
}

/**
 * Checks a request to /api/trpc and returns it (with its body read within the limit) or
 * the refusal to send. Reads (GET: queries, subscriptions) pass; writes (POST) need JSON
 * from our own origin unless they carry a token and no cookie.
 */
export async function guardTrpcRequest(request: Request, publicOrigin: string | undefined): Promise<GuardResult> {
  if (request.method === "GET" || request.method === "HEAD") return { ok: true, request };
  if (request.method !== "POST") return refuse(405, "Only GET and POST are served here.");

  const tokenOnly = bearerTokenOf(request.headers) !== undefined && !request.headers.has("cookie");
  if (!tokenOnly) {
    const origin = request.headers.get("origin");
    if (origin !== null) {
      if (!isOwnOrigin(origin, request, publicOrigin)) return refuse(403, "Cross-origin requests are refused; use a personal access token.");
    } else {
      // No Origin: a non-browser client, unless the browser's own fetch metadata says otherwise.
      const site = request.headers.get("sec-fetch-site");
      if (site !== null && site !== "same-origin" && site !== "none") {
        return refuse(403, "Cross-origin requests are refused; use a personal access token.");
      }
    }
  }

  // After the origin check: a foreign page's text/plain post is refused as foreign (403).
  const contentType = (request.headers.get("content-type") ?? "").split(";", 1)[0]?.trim().toLowerCase();
  if (contentType !== "application/json") {
    return refuse(415, "Send the request body as JSON (content-type: application/json).");
  }

  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) return refuse(413, `Request bodies are limited to ${MAX_BODY_BYTES} bytes.`);
  const body = await readLimited(request, MAX_BODY_BYTES);
  if (body === undefined) return refuse(413, `Request bodies are limited to ${MAX_BODY_BYTES} bytes.`);
  return {
    ok: true,
    request: new Request(request.url, { method: "POST", headers: request.headers, body, signal: request.signal }),
  };
}

/** The body, or undefined once it exceeds `limit` (a chunked body declares no length). */
async function readLimited(request: Request, limit: number): Promise<Uint8Array<ArrayBuffer> | undefined> {
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  const body = new Uint8Array(new ArrayBuffer(size));
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}
