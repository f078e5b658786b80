import { describe, expect, it } from "vitest";
import { VerifiedTokenCache } from "../../src/auth/token-cache.js";
import { VERIFIED_TOKEN_CACHE_MAX } from "../../src/defaults.js";

describe("VerifiedTokenCache", () => {
  it("knows a token until the moment it stops being valid, then forgets it", () => {
    const cache = new VerifiedTokenCache();
    cache.add("t1", 2_000);
    expect(cache.has("t1", 1_999)).toBe(true);
    expect(cache.has("t1", 2_000)).toBe(false);
    expect(cache.has("t1", 1_000)).toBe(false);
    expect(cache.has("unknown", 0)).toBe(false);
  });

  it("stays bounded, evicting the oldest token first", () => {
    const cache = new VerifiedTokenCache();
    for (let i = 0; i <= VERIFIED_TOKEN_CACHE_MAX; i += 1) cache.add(`t${i}`, Infinity);
    expect(cache.has("t0", 0)).toBe(false);
    expect(cache.has("t1", 0)).toBe(true);
    expect(cache.has(`t${VERIFIED_TOKEN_CACHE_MAX}`, 0)).toBe(true);
  });
});
