// When to try again after the server went away or could not be reached.

/** First retry after about half a second: a restarting server is usually back within a second or two. */
export const RECONNECT_BASE_DELAY_MS = 500;
/**
 * Never wait longer than 30 s between attempts: once the server is back, a runner should
 * be working again within half a minute, and a fleet retrying this slowly costs the
 * server nothing.
 */
export const RECONNECT_MAX_DELAY_MS = 30_000;
/** Each failed attempt doubles the ceiling, so a long outage quickly reaches the cap. */
export const RECONNECT_GROWTH_FACTOR = 2;

/**
 * Delay before reconnect attempt `attempt` (1 = the first retry), with "equal jitter":
 * half of the capped exponential ceiling is fixed, half is random. The random half keeps
 * a fleet of runners that lost the same server from reconnecting in lockstep; the fixed
 * half guarantees that a retry never comes immediately.
 */
export function reconnectDelayMs(attempt: number, random: () => number = Math.random): number {
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  const ceiling = Math.min(RECONNECT_MAX_DELAY_MS, RECONNECT_BASE_DELAY_MS * RECONNECT_GROWTH_FACTOR ** exponent);
  const jitter = Math.min(Math.max(random(), 0), 1);
  return Math.round(ceiling / 2 + (jitter * ceiling) / 2);
}
