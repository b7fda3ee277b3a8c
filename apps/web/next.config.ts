import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // The workspaces export their TypeScript sources (no build step), so Next compiles them.
  transpilePackages: ["@transcend/db", "@transcend/protocol", "@transcend/tasks"],
  // Native and wasm-backed database drivers are loaded by Node as they are, not bundled.
  serverExternalPackages: ["@electric-sql/pglite", "postgres"],
  // server.ts is the server; Next's own `X-Powered-By` header only advertises the stack.
  poweredByHeader: false,
  typedRoutes: false,
};

export default nextConfig;
