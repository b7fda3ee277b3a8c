// The security headers the built site sends, read from the same config Next builds with.
import { describe, expect, it } from "vitest";
import nextConfig, { contentSecurityPolicy } from "../next.config";
import { HSTS_VALUE, behindTls, proxy } from "./proxy";

async function headersOf(path: string): Promise<Map<string, string>> {
  const rules = (await nextConfig.headers?.()) ?? [];
  const rule = rules.find((r) => r.source === "/:path*");
  if (!rule) throw new Error(`no header rule covers ${path}`);
  return new Map(rule.headers.map((header) => [header.key.toLowerCase(), header.value]));
}

describe("security headers", () => {
  it("every response forbids framing, sniffing and cross-origin referrers", async () => {
    const headers = await headersOf("/");
    expect(headers.get("x-content-type-options")).toBe("nosniff");
    expect(headers.get("referrer-policy")).toBe("strict-origin-when-cross-origin");
    expect(headers.get("x-frame-options")).toBe("DENY");
    const csp = headers.get("content-security-policy") ?? "";
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).toMatch(/script-src 'self' 'unsafe-inline'(;|$)/);
    expect(csp).toContain("connect-src 'self';");
  });

  it("only development allows eval and the hot-reload socket", () => {
    expect(contentSecurityPolicy(false)).not.toContain("unsafe-eval");
    expect(contentSecurityPolicy(true)).toContain("'unsafe-eval'");
    expect(contentSecurityPolicy(true)).toContain("connect-src 'self' ws: wss:");
  });

  it("HSTS only behind TLS", () => {
    expect(behindTls({})).toBe(false);
    expect(behindTls({ TRANSCEND_HTTPS: "0" })).toBe(false);
    expect(behindTls({ TRANSCEND_HTTPS: "1" })).toBe(true);

    const saved = process.env.TRANSCEND_HTTPS;
    try {
      delete process.env.TRANSCEND_HTTPS;
      expect(proxy().headers.get("strict-transport-security")).toBeNull();
      process.env.TRANSCEND_HTTPS = "1";
      expect(proxy().headers.get("strict-transport-security")).toBe(HSTS_VALUE);
    } finally {
      if (saved === undefined) delete process.env.TRANSCEND_HTTPS;
      else process.env.TRANSCEND_HTTPS = saved;
    }
  });
});
