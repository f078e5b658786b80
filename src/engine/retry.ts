import { OUTGOING_RETRY_AFTER_MAX_MS } from "../defaults.js";

/**
 * The wait before attempt `attempt + 1`, after attempt `attempt` (1-based) failed: exponential
 * with full jitter (a random point in [0, min(max, base·2^(attempt-1))]), so many runs failing
 * together do not retry in lockstep. A receiver's Retry-After wins, capped so one slow receiver
 * cannot park a run for hours.
 */
export function backoffDelayMs(
  attempt: number,
  options: { baseMs: number; maxMs: number; retryAfterMs?: number; random?: () => number },
): number {
  if (options.retryAfterMs !== undefined) {
    return Math.min(Math.max(0, Math.round(options.retryAfterMs)), OUTGOING_RETRY_AFTER_MAX_MS);
  }
  const exponent = Math.max(0, attempt - 1);
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** exponent);
  const random = options.random ?? Math.random;
  return Math.round(random() * ceiling);
}

/** A Retry-After header (delta-seconds or HTTP date) → milliseconds from `nowMs`; undefined if unusable. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Date.parse also accepts bare numbers and other loose forms; an HTTP date always names a weekday or month.
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}
