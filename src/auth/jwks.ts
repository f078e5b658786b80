import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  errors,
  jwksCache,
  jwtVerify,
  type ExportedJWKSCache,
  type FetchImplementation,
  type JWSAlgorithm,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
} from "jose";
import {
  CLOCK_TOLERANCE_S,
  IDP_UNAVAILABLE_RETRY_AFTER_S,
  JWKS_CACHE_MAX_AGE_MS,
  JWKS_STALE_MAX_MS,
  JWKS_UNNAMED_KEEP_MS,
} from "../defaults.js";
import { httpError } from "../http-errors.js";
import { checkTokenSize, invalidTokenError } from "./jwt.js";

/**
 * Asymmetric algorithms only: with a symmetric one, a public key from the JWK set could be used
 * as an HMAC secret to forge tokens.
 */
const ASYMMETRIC_ALGORITHMS: JWSAlgorithm[] = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
];

/** The key-set request got no answer at all (refused, reset, DNS): fetch's own rejection. */
class KeySetUnreachableError extends Error {}

// fetch rejects with a plain TypeError that jose passes on as is: wrapped, it cannot be mistaken
// for any other error (a set member that fails to import). A timeout passes unchanged: jose turns
// it into JWKSTimeout.
const fetchKeySet: FetchImplementation = (url, init) =>
  fetch(url, init).catch((error: unknown) => {
    if (error instanceof Error && error.name === "TimeoutError") throw error;
    throw new KeySetUnreachableError("the JWK set could not be fetched", { cause: error });
  });

/**
 * The key set could not be had, whatever the token: no answer, a timeout, a non-200 answer or a
 * body that is not JSON (the only bare JOSEErrors jose throws, jwks/remote.js), or a body that is
 * not a JWK set. The sender should retry, not mint a new token.
 */
function isKeySetUnavailable(error: unknown): boolean {
  return (
    error instanceof KeySetUnreachableError ||
    error instanceof errors.JWKSTimeout ||
    error instanceof errors.JWKSInvalid ||
    (error instanceof errors.JOSEError && error.code === errors.JOSEError.code)
  );
}

/**
 * The identity providers' key sets, one per JWKS URL: shared by every integration that names it
 * (a provider's set is fetched once, not once per integration) and kept across config reloads, so
 * that an edit to any file neither refetches every set nor, while a provider is down, turns the
 * tokens its last set still verifies into 503s.
 */
export class KeySets {
  readonly #sets = new Map<string, { readonly keySet: JWTVerifyGetKey; unnamedSince: number | null }>();
  readonly #cacheMaxAgeMs: number;

  /** Tests shorten the cache; it is JWKS_CACHE_MAX_AGE_MS otherwise. */
  constructor(options: { cacheMaxAgeMs?: number } = {}) {
    this.#cacheMaxAgeMs = options.cacheMaxAgeMs ?? JWKS_CACHE_MAX_AGE_MS;
  }

  get(url: string): JWTVerifyGetKey {
    const key = new URL(url).href;
    const kept = this.#sets.get(key);
    if (kept !== undefined) return kept.keySet;
    // jose records here when it last applied a fetched set (`uat`, ms since epoch).
    const fetched: { uat?: number } = {};
    const keySet = keySetOrLastFetched(
      createRemoteJWKSet(new URL(key), {
        [customFetch]: fetchKeySet,
        [jwksCache]: fetched as ExportedJWKSCache,
        cacheMaxAge: this.#cacheMaxAgeMs,
      }),
      fetched,
    );
    this.#sets.set(key, { keySet, unnamedSince: null });
    return keySet;
  }

  /**
   * After a swap, with the URLs the config now names: a set no longer named is forgotten once it
   * has gone unnamed for JWKS_UNNAMED_KEEP_MS (at a later swap); a snapshot still serving keeps
   * its own reference either way.
   */
  retain(urls: ReadonlySet<string>, nowMs: number = Date.now()): void {
    const named = new Set([...urls].map((url) => new URL(url).href));
    for (const [key, entry] of this.#sets) {
      if (named.has(key)) entry.unnamedSince = null;
      else if (entry.unnamedSince === null) entry.unnamedSince = nowMs;
      else if (nowMs - entry.unnamedSince >= JWKS_UNNAMED_KEEP_MS) this.#sets.delete(key);
    }
  }
}

/**
 * A verifier for tokens minted by the sender's own identity provider. Keys come only from `url`
 * (jose caches them and refetches on an unknown `kid`); header fields such as jku, x5u or jwk
 * are never used to find a key. A key set that cannot be fetched is a 503, not the sender's 401,
 * unless the last one fetched still verifies the token (keySetOrLastFetched).
 */
export function createJwksVerifier(options: {
  url: string;
  issuer: string;
  audience: string;
  /** Where its key set is kept; a set of its own when left out. */
  keySets?: KeySets;
}): (token: string) => Promise<void> {
  const keySet = (options.keySets ?? new KeySets()).get(options.url);
  const verifyOptions: JWTVerifyOptions = Object.freeze({
    algorithms: ASYMMETRIC_ALGORITHMS,
    issuer: options.issuer,
    audience: options.audience,
    requiredClaims: ["exp", "iat"],
    clockTolerance: CLOCK_TOLERANCE_S,
  });
  return async (token) => {
    checkTokenSize(token);
    try {
      await jwtVerify(token, keySet, verifyOptions);
    } catch (error) {
      if (isKeySetUnavailable(error)) {
        throw httpError("identity-provider-unavailable", {
          headers: { "Retry-After": String(IDP_UNAVAILABLE_RETRY_AFTER_S) },
          cause: error,
        });
      }
      throw invalidTokenError(error);
    }
  };
}

/** What a failed fetch left: the last set fetched, if still trusted, until the next attempt. */
interface Outage {
  readonly lastFetched: JWTVerifyGetKey | null;
  /** performance.now() from which a request fetches again. */
  readonly retryAt: number;
  readonly error: unknown;
}

/**
 * The remote key set, falling back on the last one fetched while the provider cannot be reached.
 * jose refetches a set once it is older than its cache age and, if that fails, refuses every
 * token (and the next request fetches again) though the keys it holds are still good. Here a
 * failed fetch opens an outage: for IDP_UNAVAILABLE_RETRY_AFTER_S (the Retry-After the 503 names)
 * no request fetches; tokens are verified with the last set jose applied, if that fetch is less
 * than JWKS_STALE_MAX_MS old, and a token whose key it lacks (its key may be new) or any token
 * without such a set stays unavailable. The first request after that fetches again.
 */
function keySetOrLastFetched(
  remote: ReturnType<typeof createRemoteJWKSet>,
  fetched: { readonly uat?: number },
): JWTVerifyGetKey {
  let outage: Outage | null = null;

  async function duringOutage(
    current: Outage,
    ...args: Parameters<JWTVerifyGetKey>
  ): Promise<Awaited<ReturnType<JWTVerifyGetKey>>> {
    if (current.lastFetched === null) throw current.error;
    try {
      return await current.lastFetched(...args);
    } catch (error) {
      throw error instanceof errors.JWKSNoMatchingKey ? current.error : error;
    }
  }

  return async (...args) => {
    if (outage !== null && performance.now() < outage.retryAt) return duringOutage(outage, ...args);
    try {
      const key = await remote(...args);
      outage = null;
      return key;
    } catch (error) {
      if (!isKeySetUnavailable(error)) throw error;
      const trusted = fetched.uat !== undefined && Date.now() - fetched.uat < JWKS_STALE_MAX_MS;
      const lastSet = trusted ? remote.jwks() : undefined;
      outage = {
        lastFetched: lastSet === undefined ? null : createLocalJWKSet(lastSet),
        retryAt: performance.now() + IDP_UNAVAILABLE_RETRY_AFTER_S * 1000,
        error,
      };
      return duringOutage(outage, ...args);
    }
  };
}
