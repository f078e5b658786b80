import { mkdirSync } from "node:fs";
import path from "node:path";
import { REDIS_PREFIX } from "../defaults.js";
import { errorMessage, InletError, StoreUnavailableError } from "../errors.js";
import { MemoryStore } from "./memory-store.js";
import { openRedisStore } from "./redis-store.js";
import { SqliteStore } from "./sqlite-store.js";
import type { Store } from "./store.js";
import type { StoreTuning } from "./store-support.js";

const ACCEPTED_FORMS = "memory:, sqlite:<path> or redis://… / rediss://…";

export interface OpenStoreOptions extends StoreTuning {
  /** Every Redis key starts with it; default `inlet:`. */
  readonly redisPrefix?: string;
  /** Store trouble noticed outside a call (a Redis disconnect, a lost SQLite checkpoint thread). */
  readonly onError?: (error: Error) => void;
  /** Told the time writes wait for a SQLite write lock held elsewhere (the checkpoint thread's RESTART). */
  readonly onLockWait?: (ms: number) => void;
  /** This process serves the store: an embedded one is claimed for it (see SqliteStore). */
  readonly serve?: boolean;
}

export type StoreLocation =
  | { readonly kind: "memory" }
  | { readonly kind: "sqlite"; readonly file: string }
  | { readonly kind: "redis"; readonly url: string };

/** INLET_STORE → where the store lives; a relative sqlite path is resolved against the cwd. */
export function parseStoreUrl(url: string): StoreLocation {
  const scheme = url.slice(0, url.indexOf(":") + 1).toLowerCase();
  if (scheme === "memory:" && url.length === scheme.length) return { kind: "memory" };
  if (scheme === "sqlite:" && url.length > scheme.length) {
    return { kind: "sqlite", file: path.resolve(url.slice(scheme.length)) };
  }
  if ((scheme === "redis:" || scheme === "rediss:") && url.startsWith("//", scheme.length)) {
    return { kind: "redis", url };
  }
  throw new InletError("store-url", `Unsupported store URL "${url}": use ${ACCEPTED_FORMS}`);
}

export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<Store> {
  const location = parseStoreUrl(url);
  const tuning: StoreTuning = { runHistoryLimit: options.runHistoryLimit };
  switch (location.kind) {
    case "memory":
      return new MemoryStore(tuning);
    case "sqlite":
      return openSqlite(location.file, tuning, options);
    case "redis":
      return openRedisStore(
        location.url,
        Object.assign({}, tuning, { prefix: options.redisPrefix ?? REDIS_PREFIX, onError: options.onError }),
      );
    default: {
      const unknown: never = location;
      throw new InletError("store-url", `Unsupported store ${JSON.stringify(unknown)}`);
    }
  }
}

function openSqlite(file: string, tuning: StoreTuning, options: OpenStoreOptions): Store {
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    return new SqliteStore(file, {
      tuning,
      serve: options.serve ?? false,
      onError: options.onError,
      onLockWait: options.onLockWait,
    });
  } catch (error) {
    if (error instanceof InletError) throw error;
    throw new StoreUnavailableError(`Cannot open the SQLite store ${file}: ${errorMessage(error)}`, {
      cause: error,
    });
  }
}
