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
}

/**
 * Fixed-window limiters per key, created on first use and kept across reloads (a reload must not
 * reset a sender's budget). With Redis they are shared by every instance.
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
    async consume(key, rate) {
      try {
        await limiterFor(key, rate).consume(key);
        return null;
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) return Math.max(rejection.msBeforeNext, 1);
        throw new StoreUnavailableError("rate limiter store failed", { cause: rejection });
      }
    },
  };
}
