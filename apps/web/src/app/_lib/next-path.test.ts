import { describe, expect, it } from "vitest";
import { safeNextPath } from "./next-path";

describe("safeNextPath", () => {
  it("keeps paths on this site", () => {
    expect(safeNextPath("/variants/new?fork=1")).toBe("/variants/new?fork=1");
  });

  it.each(["https://evil.example", "//evil.example", "/\\evil.example", "javascript:alert(1)", "", null, undefined])(
    "sends %s home",
    (value) => {
      expect(safeNextPath(value)).toBe("/");
    },
  );
});
