import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from "rate-limiter-flexible";
import type { Redis } from "ioredis";
import type { Rate } from "../config/units.js";
import { StoreUnavailableError } from "../errors.js";
import { httpError } from "../http-errors.js";

export interface RateLimits {
  /** Counts one request; resolves to null when allowed, or the ms to wait when over the rate. */
  consume(key: string, rate: Rate): Promise<number | null>;
  /** Failed attempts of one kind (`name`), per client. */
  failures(name: string, rate: Rate): FailureLimit;
}

/**
 * Failed attempts per client (a wrong key or token). A wrong attempt is counted atomically before
 * it is answered, so concurrent guesses cannot pass the limit together; a right one only reads the
 * count, and is refused too while the client is over it, so a guess cannot be told right by its
 * answer. Either way one store operation a request.
 */
export interface FailureLimit {
  /** Counts a failure; resolves to the ms to wait when `client` is now over the limit, else null. */
  fail(client: string): Promise<number | null>;
  /** The ms to wait while `client` has used up its failures, else null. */
  blockedFor(client: string): Promise<number | null>;
}

/**
 * Fixed-window limiters per key, created on first use and kept across reloads (a reload must not
 * reset a sender's budget). With Redis they are shared by every instance, as are failure limits:
 * a client cannot take a fresh budget from each instance behind a load balancer.
 */
export function createRateLimits(options: { redis?: Redis; prefix?: string }): RateLimits {
  const limiters = new Map<string, RateLimiterAbstract>();

  function limiterFor(key: string, rate: Rate): RateLimiterAbstract {
    const id = `${key}|${rate.points}|${rate.windowMs}`;
    let limiter = limiters.get(id);
    if (!limiter) {
      const opts = {
        points: rate.points,
        duration: rate.windowMs / 1000,
        keyPrefix: `${options.prefix ?? ""}rl:${id}`,
      };
      limiter = options.redis
        ? new RateLimiterRedis(
            Object.assign({}, opts, { storeClient: options.redis, useRedisPackage: false }),
          )
        : new RateLimiterMemory(opts);
      limiters.set(id, limiter);
    }
    return limiter;
  }

  return {
    consume: (key, rate) => take(limiterFor(key, rate), key),
    failures(name, rate) {
      // A colon cannot occur in an integration id, so this never shares an integration's limiter.
      const limiter = limiterFor(`failures:${name}`, rate);
      return {
        fail: (client) => take(limiter, client),
        async blockedFor(client) {
          const state = await limiter.get(client).catch((error: unknown) => {
            throw storeFailed(error);
          });
          return state && state.consumedPoints >= rate.points ? Math.max(state.msBeforeNext, 1) : null;
        },
      };
    },
  };
}

/** One point of `key`: null when allowed, or the ms to wait when over the rate. */
async function take(limiter: RateLimiterAbstract, key: string): Promise<number | null> {
  try {
    await limiter.consume(key);
    return null;
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) return Math.max(rejection.msBeforeNext, 1);
    throw storeFailed(rejection);
  }
}

function storeFailed(cause: unknown): StoreUnavailableError {
  return new StoreUnavailableError("rate limiter store failed", { cause });
}

/** Throws 429 + Retry-After when a failure limit says to wait. */
export async function refuseIfOver(waitMs: Promise<number | null>): Promise<void> {
  const ms = await waitMs;
  if (ms === null) return;
  throw httpError("too-many-failures", {
    headers: { "Retry-After": String(Math.max(1, Math.ceil(ms / 1000))) },
  });
}
