import { RUNNER_SOCKET_PATH } from "@transcend/protocol";
import { UserError } from "../errors";

/**
 * The WebSocket URL of a server's runner gateway from what a person types after
 * --server: `http(s)://host[:port][/prefix]` (the web address) or `ws(s)://…` directly.
 */
export function runnerSocketUrl(server: string): URL {
  // "localhost:3000" would otherwise parse as a URL with the scheme "localhost:".
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(server) ? server : `http://${server}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UserError(`--server must be the server's address, e.g. http://localhost:3000, not "${server}"`);
  }
  const schemes: Record<string, string> = { "http:": "ws:", "https:": "wss:", "ws:": "ws:", "wss:": "wss:" };
  const scheme = schemes[url.protocol];
  if (scheme === undefined) {
    throw new UserError(`--server must start with http://, https://, ws:// or wss://, not ${url.protocol}//`);
  }
  url.protocol = scheme;
  url.hash = "";
  // A server behind a path prefix (reverse proxy) serves the gateway under that prefix.
  const path = url.pathname.replace(/\/+$/, "");
  url.pathname = path.endsWith(RUNNER_SOCKET_PATH) ? path : `${path}${RUNNER_SOCKET_PATH}`;
  return url;
}

/**
 * The HTTP base of a server (no trailing slash) from what a person types after --server,
 * for the registration and artifact endpoints: ws(s) becomes http(s), and a pasted
 * gateway address loses its /api/runner.
 */
export function serverHttpBase(server: string): URL {
  const url = runnerSocketUrl(server);
  url.protocol = url.protocol === "wss:" ? "https:" : "http:";
  url.pathname = url.pathname.slice(0, -RUNNER_SOCKET_PATH.length);
  url.search = "";
  return url;
}

/** `${base}${path}` where path starts with "/", keeping any prefix the base has. */
export function serverEndpoint(server: string, pathname: string): URL {
  const url = serverHttpBase(server);
  url.pathname = `${url.pathname.replace(/\/+$/, "")}${pathname}`;
  return url;
}
