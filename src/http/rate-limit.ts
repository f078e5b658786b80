import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from "rate-limiter-flexible";
import type { Redis } from "ioredis";
import type { Rate } from "../config/units.js";
import { StoreUnavailableError } from "../errors.js";

export interface RateLimits {
  /** Counts one request; resolves to null when allowed, or the ms to wait when over the rate. */
  consume(key: string, rate: Rate): Promise<number | null>;
  /** Failed attempts of one kind (`name`), per client: only failures count, not every request. */
  failures(name: string, rate: Rate): FailureLimit;
}

export interface FailureLimit {
  /**
   * Counts an attempt of `client` before it is checked, so concurrent attempts cannot slip past
   * the limit together; resolves to the ms to wait when over it, else null.
   */
  attempt(client: string): Promise<number | null>;
  /** Gives a succeeded attempt back: only failures use up the budget. */
  succeeded(client: string): Promise<void>;
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
        attempt: (client) => take(limiter, client),
        async succeeded(client) {
          await limiter.reward(client, 1).catch((error: unknown) => {
            throw storeFailed(error);
          });
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
