import { describe, expect, it } from "vitest";
import { formatCount, formatDate, formatDuration, formatRelative } from "./format";

describe("formatting", () => {
  it("counts with SI suffixes", () => {
    expect(formatCount(950)).toBe("950");
    expect(formatCount(12_345)).toBe("12.3 k");
    expect(formatCount(2_000_000)).toBe("2 M");
    expect(formatCount(3.456e12)).toBe("3.46 T");
  });

  it("dates in UTC, relative times and durations", () => {
    expect(formatDate(new Date("2026-03-04T23:30:00Z"))).toBe("4 Mar 2026");
    const now = new Date("2026-03-04T12:00:00Z");
    expect(formatRelative(new Date("2026-03-04T11:57:00Z"), now)).toBe("3 min ago");
    expect(formatRelative(new Date("2026-03-04T09:00:00Z"), now)).toBe("3 h ago");
    expect(formatDuration(30)).toBe("30 s");
    expect(formatDuration(600)).toBe("10 min");
    expect(formatDuration(3 * 3600)).toBe("3 h");
  });
});
