import { VERIFIED_TOKEN_CACHE_MAX } from "../defaults.js";

/**
 * Tokens this process has already verified, each until the moment it stops being valid. A sender
 * reuses one token for up to its TTL, so the HMAC check runs once per token instead of once per
 * request. Only successes are kept, the size is bounded (oldest out first), and a cache belongs to
 * one compiled verifier: a reload (a key disabled, a secret rotated) starts an empty one.
 */
export class VerifiedTokenCache {
  readonly #validUntilMs = new Map<string, number>();

  has(token: string, nowMs: number): boolean {
    const validUntil = this.#validUntilMs.get(token);
    if (validUntil === undefined) return false;
    if (nowMs < validUntil) return true;
    this.#validUntilMs.delete(token);
    return false;
  }

  add(token: string, validUntilMs: number): void {
    if (this.#validUntilMs.size >= VERIFIED_TOKEN_CACHE_MAX) {
      const oldest = this.#validUntilMs.keys().next();
      if (!oldest.done) this.#validUntilMs.delete(oldest.value);
    }
    this.#validUntilMs.set(token, validUntilMs);
  }
}
