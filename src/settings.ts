import * as defaults from "./defaults.js";
import { InletError } from "./errors.js";

/** The environment of SPEC 8, read and checked once at start. */
export interface Settings {
  readonly port: number;
  readonly dir: string;
  readonly storeUrl: string;
  readonly jwtSecret: string | undefined;
  readonly adminToken: string | undefined;
  /** Unset: http://localhost:<the port actually bound>. */
  readonly publicUrl: string | undefined;
  readonly watch: boolean;
  readonly outgoingDenyPrivate: boolean;
  readonly logLevel: string;
  readonly redisPrefix: string;
  readonly concurrency: number;
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

export function readSettings(env: Readonly<Record<string, string | undefined>>): Settings {
  const port = integer(env, "PORT", defaults.PORT, { min: 0, max: 65535 });
  const logLevel = env["LOG_LEVEL"] || defaults.LOG_LEVEL;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new InletError("settings", `LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}, not "${logLevel}"`);
  }
  return Object.freeze({
    port,
    dir: env["INLET_DIR"] || defaults.DIR,
    storeUrl: env["INLET_STORE"] || defaults.STORE_URL,
    jwtSecret: env["INLET_JWT_SECRET"] || undefined,
    adminToken: env["INLET_ADMIN_TOKEN"] || undefined,
    publicUrl: env["INLET_PUBLIC_URL"] ? env["INLET_PUBLIC_URL"].replace(/\/+$/, "") : undefined,
    watch: boolean(env, "INLET_WATCH", defaults.WATCH),
    outgoingDenyPrivate: boolean(env, "INLET_OUTGOING_DENY_PRIVATE", defaults.OUTGOING_DENY_PRIVATE),
    logLevel,
    redisPrefix: env["INLET_REDIS_PREFIX"] || defaults.REDIS_PREFIX,
    concurrency: integer(env, "INLET_CONCURRENCY", defaults.CONCURRENCY, { min: 1, max: 1000 }),
  });
}

function boolean(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
  fallback: boolean,
): boolean {
  const value = env[name];
  if (value === undefined || value === "") return fallback;
  if (["true", "1", "yes"].includes(value.toLowerCase())) return true;
  if (["false", "0", "no"].includes(value.toLowerCase())) return false;
  throw new InletError("settings", `${name} must be true or false, not "${value}"`);
}

function integer(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
  fallback: number,
  range: { min: number; max: number },
): number {
  const value = env[name];
  if (value === undefined || value === "") return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < range.min || parsed > range.max) {
    throw new InletError(
      "settings",
      `${name} must be an integer from ${range.min} to ${range.max}, not "${value}"`,
    );
  }
  return parsed;
}
