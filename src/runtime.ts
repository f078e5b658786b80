import { randomBytes } from "node:crypto";
import { once } from "node:events";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Redis, type RedisOptions } from "ioredis";
import type { Logger } from "pino";
import * as defaults from "./defaults.js";
import { createConfigLoader } from "./config/load.js";
import { buildSnapshot, type Snapshot, type SnapshotDeps } from "./config/snapshot.js";
import { SnapshotHolder } from "./config/snapshot-holder.js";
import { createReloader, type Reloader } from "./config/watch.js";
import { KeySets } from "./auth/jwks.js";
import { resolveJwtKey } from "./auth/jwt.js";
import { startSweeper } from "./dedup/sweeper.js";
import { createLocalRunner } from "./engine/local-runner.js";
import { createQueueRunner } from "./engine/queue-runner.js";
import type { RunDispatcher } from "./engine/dispatcher.js";
import { ConfigError, errorMessage, StoreUnavailableError } from "./errors.js";
import { createHttpServer } from "./http/app.js";
import { createSampleBuffer } from "./ingest/sample-buffer.js";
import { createRateLimits } from "./http/rate-limit.js";
import { createMetrics, type Metrics } from "./metrics.js";
import { createHttpTransport } from "./nodes/http-transport.js";
import { builtinRegistry, type NodeRegistry } from "./nodes/registry.js";
import type { Settings } from "./settings.js";
import { openStore } from "./store/open-store.js";
import { IngressLoad } from "./engine/run-throttle.js";
import type { Store } from "./store/store.js";

/** Name under which a generated JWT signing secret is kept in the store. */
const JWT_SECRET_NAME = "jwt-signing-secret";
const GENERATED_SECRET_BYTES = 48;
const SECRET_RETRY_MAX_MS = 5000;
/** Fail fast when Redis is down (→ 503), reconnect by itself with a capped backoff. */
const SHARED_LIMITER_REDIS_OPTIONS: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  retryStrategy: (attempt) => Math.min(100 * 2 ** attempt, SECRET_RETRY_MAX_MS),
};

export interface Runtime {
  readonly server: Server;
  readonly port: number;
  readonly holder: SnapshotHolder;
  readonly store: Store;
  readonly metrics: Metrics;
  readonly reloader: Reloader;
  /** SPEC 9.4: stop accepting, answer requests in flight, give running nodes the grace period, exit. */
  shutdown(): Promise<void>;
}

/**
 * The composition root of `inlet serve`: loads and compiles the config (refusing an invalid
 * one with every problem), opens the store, and starts the server, runner, watcher and sweeper.
 */
export async function startRuntime(options: {
  settings: Settings;
  env: Readonly<Record<string, string | undefined>>;
  logger: Logger;
  registry?: NodeRegistry;
  shutdownGraceMs?: number;
  /** How long a reload's sample deletions wait (SAMPLE_TRIM_GRACE_MS); tests shorten it. */
  sampleTrimGraceMs?: number;
}): Promise<Runtime> {
  const { settings, env, logger } = options;
  const registry = options.registry ?? builtinRegistry;
  const loader = createConfigLoader(registry);
  const loaded = await loader.load(settings.dir);
  if (!loaded.ok) throw new ConfigError(loaded.diagnostics);

  const graceMs = options.shutdownGraceMs ?? defaults.SHUTDOWN_GRACE_MS;
  const ingressLoad = new IngressLoad();
  const store = await openStore(settings.storeUrl, {
    serve: true,
    redisPrefix: settings.redisPrefix,
    onError: (error) => logger.warn({ err: error }, "store problem"),
    onLockWait: (ms) => ingressLoad.noteStoreWait(ms),
  });
  // Everything acquired from here on is pushed as it is acquired: a step that fails (the port is
  // taken, say) releases what came before it, last first, so a failed start leaves nothing open.
  const acquired = releaseStack(logger);
  acquired.push("the store", () => store.close());
  try {
    const jwtKey = resolveJwtKey(settings.jwtSecret ?? (await storedJwtSecret(store, logger)));
    const keySets = new KeySets();
    const snapshotDeps = (): SnapshotDeps => ({ env, jwtKey, requireSecrets: true, keySets });
    const built = buildSnapshot(loaded.config, snapshotDeps());
    if (!built.ok) throw new ConfigError(built.diagnostics);
    const holder = new SnapshotHolder(built.snapshot);
    const metrics = createMetrics();
    const runnerDeps = {
      store,
      holder,
      http: createHttpTransport({ denyPrivate: settings.outgoingDenyPrivate }),
      env: templateEnv(env),
      logger,
      metrics,
      concurrency: settings.concurrency,
      load: ingressLoad,
    };
    const redis = store.kind === "redis" ? sharedLimiterRedis(settings.storeUrl, logger) : undefined;
    if (redis) acquired.push("the rate limiter's Redis connection", () => redis.disconnect());
    const samples = createSampleBuffer({
      store,
      intervalMs: defaults.SAMPLE_FLUSH_MS,
      logger,
      keepNow: (integration) => holder.current.integrations.get(integration)?.samples ?? 0,
      trimGraceMs: options.sampleTrimGraceMs,
    });
    acquired.push("the sample buffer", () => samples.stop());
    // The runner starts once the port is ours, so a start that cannot listen has neither connected
    // a run queue nor let its worker take jobs. It is created in the turn the server starts
    // listening, before any request is read: the rejection below is not expected to be reached.
    const started: { runner?: RunDispatcher } = {};
    const dispatcher: RunDispatcher = {
      dispatch: (runs) =>
        started.runner
          ? started.runner.dispatch(runs)
          : Promise.reject(new StoreUnavailableError("the runner is not started yet")),
    };
    let ready = true;
    let port = settings.port;
    const server = createHttpServer({
      holder,
      store,
      dispatcher,
      rateLimits: createRateLimits({ redis, prefix: settings.redisPrefix }),
      samples,
      metrics,
      logger,
      jwtKey,
      adminToken: settings.adminToken,
      publicUrl: () => settings.publicUrl ?? `http://localhost:${port}`,
      isReady: () => ready,
      now: Date.now,
      load: ingressLoad,
    });
    server.listen(settings.port);
    await once(server, "listening");
    acquired.push("the HTTP server", () => closeServerNow(server));
    port = (server.address() as AddressInfo).port;
    const runner =
      store.kind === "redis"
        ? createQueueRunner({ ...runnerDeps, redisUrl: settings.storeUrl, prefix: settings.redisPrefix })
        : createLocalRunner(runnerDeps);
    acquired.push("the runner", () => runner.stop(graceMs));
    started.runner = runner;
    await samples.retain(null, holder.current);
    const reloader = createReloader({
      holder,
      loader,
      snapshotDeps,
      logger,
      metrics,
      watch: settings.watch,
      debounceMs: defaults.WATCH_DEBOUNCE_MS,
      onSwap: (previous, next) => {
        keySets.retain(jwksUrls(next));
        void samples.retain(previous, next);
      },
    });
    acquired.push("the config watcher", () => reloader.close());
    const sweeper = startSweeper({
      store,
      onError: (error) => logger.warn({ err: error }, "dedup key sweep failed"),
    });
    acquired.push("the dedup sweeper", () => sweeper.stop());
    const resumed = await runner.resumeUnfinished();
    logger.info(
      { port, store: store.kind, integrations: holder.current.integrations.size, resumedRuns: resumed },
      `inlet listening on port ${port}`,
    );

    return {
      server,
      port,
      holder,
      store,
      metrics,
      reloader,
      async shutdown() {
        ready = false;
        reloader.close();
        sweeper.stop();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const runnerStopped = runner.stop(graceMs);
        // Requests in flight are answered (with Connection: close) within the grace period; after
        // it, a client holding a socket open must not keep the process up.
        const graceOver = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
        await Promise.race([closed, graceOver]);
        server.closeAllConnections();
        await Promise.all([closed, runnerStopped]);
        await samples.stop();
        redis?.disconnect();
        await store.close();
      },
    };
  } catch (error) {
    await acquired.unwind();
    throw error;
  }
}

/**
 * Releases of what a start has acquired, in the order acquired. `unwind` runs them last first and
 * never rejects: a release that fails is logged and the rest still run, so the error that made the
 * start fail is the one its caller sees.
 */
function releaseStack(logger: Logger): {
  push(what: string, release: () => unknown): void;
  unwind(): Promise<void>;
} {
  const releases: { what: string; release: () => unknown }[] = [];
  return {
    push(what, release) {
      releases.push({ what, release });
    },
    async unwind() {
      for (let next = releases.pop(); next; next = releases.pop()) {
        try {
          await next.release();
        } catch (error) {
          logger.error(
            { err: error },
            `start failed; ${next.what} could not be released: ${errorMessage(error)}`,
          );
        }
      }
    },
  };
}

/** A start that fails after listening has no requests worth waiting for. */
async function closeServerNow(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve, reject) =>
    server.close((error) => (error ? reject(error) : resolve())),
  );
  server.closeAllConnections();
  await closed;
}

/**
 * The generated JWT secret kept in the store. A store that cannot be reached yet (Redis still
 * starting) is waited for with a capped backoff, logged once, so an instance started before
 * Redis becomes ready when Redis does. Set INLET_JWT_SECRET to start without waiting.
 */
async function storedJwtSecret(store: Store, logger: Logger): Promise<string> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await store.getOrCreateSecret(JWT_SECRET_NAME, () =>
        randomBytes(GENERATED_SECRET_BYTES).toString("base64url"),
      );
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      if (attempt === 0) logger.warn({ err: error }, "waiting for the store to read the JWT signing secret");
      await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** attempt, SECRET_RETRY_MAX_MS)));
    }
  }
}

/** The rate limiter's own connection; its errors are logged once per outage (ioredis would print each retry). */
function sharedLimiterRedis(url: string, logger: Logger): Redis {
  const redis = new Redis(url, SHARED_LIMITER_REDIS_OPTIONS);
  let down = false;
  redis.on("error", (error: Error) => {
    if (down) return;
    down = true;
    logger.warn({ err: error }, "rate limiter lost its Redis connection; retrying in the background");
  });
  redis.on("ready", () => {
    down = false;
  });
  return redis;
}

/** The JWKS URLs a snapshot's integrations name: the key sets worth keeping after a reload. */
function jwksUrls(snapshot: Snapshot): ReadonlySet<string> {
  const urls = new Set<string>();
  for (const { auth } of snapshot.integrations.values()) if ("jwks" in auth) urls.add(auth.jwks);
  return urls;
}

/** Inlet's own secrets are not for templates: a workflow must not be able to send them onward. */
const RUNTIME_SECRETS = ["INLET_JWT_SECRET", "INLET_ADMIN_TOKEN"];

function templateEnv(
  env: Readonly<Record<string, string | undefined>>,
): Readonly<Record<string, string | undefined>> {
  const copy = { ...env };
  for (const name of RUNTIME_SECRETS) delete copy[name];
  return Object.freeze(copy);
}
