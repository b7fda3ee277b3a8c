import type { NextConfig } from "next";

/**
 * Content-Security-Policy for the pages. Next's App Router streams its payload in inline
 * <script> tags, so without per-request nonces scripts need 'unsafe-inline' next to 'self'
 * (nonces would force every response through a proxy). Styles: React and Radix set inline
 * style attributes. Development adds what React's dev build and hot reload need (eval for
 * stack traces, the HMR WebSocket).
 */
export function contentSecurityPolicy(dev: boolean): string {
  const directives: Record<string, string[]> = {
    "default-src": ["'self'"],
    "script-src": ["'self'", "'unsafe-inline'", ...(dev ? ["'unsafe-eval'"] : [])],
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:", "blob:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'", ...(dev ? ["ws:", "wss:"] : [])],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
  };
  return Object.entries(directives)
    .map(([name, values]) => `${name} ${values.join(" ")}`)
    .join("; ");
}

/** Headers on every response. HSTS is added per request by src/proxy.ts, only behind TLS. */
export function securityHeaders(dev: boolean): { key: string; value: string }[] {
  return [
    { key: "Content-Security-Policy", value: contentSecurityPolicy(dev) },
    // Older browsers ignore frame-ancestors; this says the same to them.
    { key: "X-Frame-Options", value: "DENY" },
    { key: "X-Content-Type-Options", value: "nosniff" },
    { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
    { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=(), payment=()" },
  ];
}

const nextConfig: NextConfig = {
  // The workspaces export their TypeScript sources (no build step), so Next compiles them.
  transpilePackages: ["@transcend/db", "@transcend/protocol", "@transcend/tasks"],
  // Native and wasm-backed database drivers are loaded by Node as they are, not bundled.
  serverExternalPackages: ["@electric-sql/pglite", "postgres"],
  // server.ts is the server; Next's own `X-Powered-By` header only advertises the stack.
  poweredByHeader: false,
  typedRoutes: false,
  async headers() {
    return [{ source: "/:path*", headers: securityHeaders(process.env.NODE_ENV === "development") }];
  },
};

export default nextConfig;
