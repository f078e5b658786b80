import { describe, expect, it } from "vitest";
import { OUTGOING_RETRY_AFTER_MAX_MS } from "../../src/defaults.js";
import { backoffDelayMs, parseRetryAfter } from "../../src/engine/retry.js";

describe("backoffDelayMs", () => {
  const options = { baseMs: 200, maxMs: 30_000 };

  it("grows exponentially with full jitter", () => {
    expect(backoffDelayMs(1, { ...options, random: () => 1 })).toBe(200);
    expect(backoffDelayMs(2, { ...options, random: () => 1 })).toBe(400);
    expect(backoffDelayMs(4, { ...options, random: () => 1 })).toBe(1600);
    expect(backoffDelayMs(4, { ...options, random: () => 0.5 })).toBe(800);
    expect(backoffDelayMs(4, { ...options, random: () => 0 })).toBe(0);
  });

  it("never exceeds the maximum", () => {
    expect(backoffDelayMs(30, { ...options, random: () => 1 })).toBe(30_000);
    for (let attempt = 1; attempt < 20; attempt += 1) {
      const delay = backoffDelayMs(attempt, options);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(30_000);
    }
  });

  it("honours a Retry-After, capped", () => {
    expect(backoffDelayMs(1, { ...options, retryAfterMs: 5000, random: () => 0 })).toBe(5000);
    expect(backoffDelayMs(1, { ...options, retryAfterMs: 3_600_000 })).toBe(OUTGOING_RETRY_AFTER_MAX_MS);
  });
});

describe("parseRetryAfter", () => {
  const now = Date.parse("2025-01-01T00:00:00Z");

  it("reads delta-seconds", () => {
    expect(parseRetryAfter("2", now)).toBe(2000);
    expect(parseRetryAfter(" 0 ", now)).toBe(0);
  });

  it("reads an HTTP date relative to now, never negative", () => {
    expect(parseRetryAfter("Wed, 01 Jan 2025 00:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("Tue, 31 Dec 2024 23:00:00 GMT", now)).toBe(0);
  });

  it("ignores what it cannot read", () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter("-5", now)).toBeUndefined();
    expect(parseRetryAfter("1.5", now)).toBeUndefined();
  });
});
