import { describe, expect, it } from "vitest";
import { RECONNECT_BASE_DELAY_MS, RECONNECT_MAX_DELAY_MS, reconnectDelayMs } from "./backoff";

describe("reconnect backoff", () => {
  it("grows exponentially from the base delay", () => {
    const ceilings = [1, 2, 3, 4].map((attempt) => reconnectDelayMs(attempt, () => 1));
    expect(ceilings).toEqual([RECONNECT_BASE_DELAY_MS, RECONNECT_BASE_DELAY_MS * 2, RECONNECT_BASE_DELAY_MS * 4, RECONNECT_BASE_DELAY_MS * 8]);
  });

  it("is capped, however many attempts failed", () => {
    for (const attempt of [10, 20, 100, 10_000]) {
      expect(reconnectDelayMs(attempt, () => 1)).toBe(RECONNECT_MAX_DELAY_MS);
      expect(reconnectDelayMs(attempt, () => 0)).toBe(RECONNECT_MAX_DELAY_MS / 2);
    }
  });

  it("is jittered: random within [ceiling/2, ceiling], never immediate", () => {
    const delays = Array.from({ length: 200 }, () => reconnectDelayMs(8));
    const ceiling = Math.min(RECONNECT_MAX_DELAY_MS, RECONNECT_BASE_DELAY_MS * 2 ** 7);
    for (const delay of delays) {
      expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
      expect(delay).toBeLessThanOrEqual(ceiling);
    }
    // Runners that lost the same server must not all come back at the same instant.
    expect(new Set(delays).size).toBeGreaterThan(50);
  });

  it("tolerates a random source outside [0, 1)", () => {
    expect(reconnectDelayMs(1, () => 5)).toBe(RECONNECT_BASE_DELAY_MS);
    expect(reconnectDelayMs(1, () => -1)).toBe(RECONNECT_BASE_DELAY_MS / 2);
  });
});
