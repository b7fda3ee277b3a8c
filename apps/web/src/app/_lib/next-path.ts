/**
 * Where to go after signing in: only a path on this site. "//evil.example" and
 * "/\evil.example" are read by browsers as other hosts, so they fall back to the home page.
 */
export function safeNextPath(value: string | null | undefined, fallback = "/"): string {
  if (typeof value !== "string" || value.length > 2000) return fallback;
  if (!value.startsWith("/") || value.startsWith("//") || value.startsWith("/\\")) return fallback;
  return value;
}
