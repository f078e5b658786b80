import { Redis, type ChainableCommander } from "ioredis";
import { errorMessage, InletError, StoreUnavailableError } from "../errors.js";
import { serializeEvent, type IncomingEvent } from "../ingest/event.js";
import {
  ACCEPT,
  FINISH_RUN,
  GET_RUN,
  LIST_RUNS,
  LIST_UNFINISHED,
  RECORD_NODE,
  RETRY_RUN,
  START_RUN,
  runScript,
} from "./redis-scripts.js";
import type {
  AcceptInput,
  AcceptOutcome,
  DedupKey,
  NodeRecord,
  RetryOutcome,
  RunQuery,
  RunRecord,
  RunRef,
  RunStatus,
  Sample,
  Store,
  TrimOptions,
} from "./store.js";
import { runHistoryLimit, type StoreTuning } from "./store-support.js";
import { timeOrderedId } from "../ids.js";

/** Reconnect backoff: doubles from the base up to the cap, so a down Redis sees no storm. */
const REDIS_RECONNECT_BASE_MS = 100;
const REDIS_RECONNECT_MAX_MS = 5000;
const REDIS_CONNECT_TIMEOUT_MS = 5000;
/** A command that gets no answer fails (→ 503) rather than holding a request open. */
const REDIS_COMMAND_TIMEOUT_MS = 5000;
/** Reconnects a command in flight may wait for before it fails; small, so failure is fast. */
const REDIS_MAX_RETRIES_PER_REQUEST = 1;

export interface RedisStoreOptions extends StoreTuning {
  readonly prefix: string;
  readonly onError?: (error: Error) => void;
}

/**
 * Connects and resolves once the first connection attempt has either succeeded or failed: a
 * Redis that is down at start gives a store whose calls fail fast until it comes back.
 */
export async function openRedisStore(url: string, options: RedisStoreOptions): Promise<RedisStore> {
  const redis = connect(url);
  let reported = false;
  // Always listening: an unhandled 'error' event would crash the process. One report per outage.
  redis.on("error", (error: Error) => {
    if (reported) return;
    reported = true;
    options.onError?.(new StoreUnavailableError(`Redis is unreachable: ${error.message}`, { cause: error }));
  });
  redis.on("ready", () => {
    reported = false;
  });
  await firstConnectionAttempt(redis);
  return new RedisStore(redis, options);
}

function connect(url: string): Redis {
  try {
    return new Redis(url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: REDIS_MAX_RETRIES_PER_REQUEST,
      connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
      commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
      retryStrategy: (times) => Math.min(REDIS_RECONNECT_BASE_MS * 2 ** (times - 1), REDIS_RECONNECT_MAX_MS),
    });
  } catch (error) {
    throw new InletError("store-url", `Invalid Redis URL: ${errorMessage(error)}`, { cause: error });
  }
}

function firstConnectionAttempt(redis: Redis): Promise<void> {
  return new Promise((resolve) => {
    const finish = (): void => {
      clearTimeout(timer);
      redis.off("ready", finish).off("error", finish).off("end", finish);
      resolve();
    };
    const timer = setTimeout(finish, REDIS_CONNECT_TIMEOUT_MS);
    redis.once("ready", finish).once("error", finish).once("end", finish);
  });
}

export class RedisStore implements Store {
  readonly kind = "redis";
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #runHistoryLimit: number;

  constructor(redis: Redis, options: RedisStoreOptions) {
    this.#redis = redis;
    this.#prefix = options.prefix;
    this.#runHistoryLimit = runHistoryLimit(options);
  }

  async ping(): Promise<void> {
    await this.#call(() => this.#redis.ping());
  }

  async accept(input: AcceptInput): Promise<AcceptOutcome> {
    const { event, dedup, workflows } = input;
    const runs = workflows.map((workflow) => ({ runId: timeOrderedId(), workflow, eventId: event.eventId }));
    const reply = await this.#script(ACCEPT, [
      event.eventId,
      serializeEvent(event, input.bodyJson),
      dedup ? this.#dedupKey(dedup) : "",
      dedup ? Math.max(1, Math.ceil(dedup.ttlMs)) : 0,
      ...runs.flatMap((run) => [run.runId, run.workflow]),
    ]);
    const [outcome, firstEventId] = reply as [string, string | undefined];
    if (outcome === "duplicate" && firstEventId !== undefined) return { outcome: "duplicate", firstEventId };
    return { outcome: "accepted", runs };
  }

  /** Redis expires dedup keys by itself. */
  async sweepExpiredKeys(): Promise<number> {
    return 0;
  }

  async addSample(integration: string, sample: Sample, keep: number): Promise<void> {
    if (keep <= 0) return this.trimSamples(new Map([[integration, 0]]));
    const key = this.#samplesKey(integration);
    const json = JSON.stringify(sample);
    await this.#exec(
      this.#redis
        .multi()
        .lpush(key, json)
        .ltrim(key, 0, keep - 1)
        .sadd(this.#sampledKey(), integration),
    );
  }

  async trimSamples(keep: ReadonlyMap<string, number>, options: TrimOptions = {}): Promise<void> {
    const drop = new Set<string>();
    if (options.dropUnlisted) {
      const sampled = await this.#call(() => this.#redis.smembers(this.#sampledKey()));
      for (const integration of sampled) if (!keep.has(integration)) drop.add(integration);
    }
    const lower: Array<[string, number]> = [];
    for (const [integration, count] of keep) {
      // LTRIM's stop of -1 would mean "to the end": none kept is a DEL.
      if (count > 0) lower.push([integration, count]);
      else drop.add(integration);
    }
    if (drop.size === 0 && lower.length === 0) return;
    const batch = this.#redis.multi();
    for (const integration of drop)
      batch.del(this.#samplesKey(integration)).srem(this.#sampledKey(), integration);
    for (const [integration, count] of lower) batch.ltrim(this.#samplesKey(integration), 0, count - 1);
    await this.#exec(batch);
  }

  #samplesKey(integration: string): string {
    return `${this.#prefix}samples:${integration}`;
  }

  /** The integrations that have a samples list: a start finds those no longer configured here, not with SCAN. */
  #sampledKey(): string {
    return `${this.#prefix}sampled`;
  }

  async listSamples(integration: string): Promise<Sample[]> {
    const items = await this.#call(() => this.#redis.lrange(this.#samplesKey(integration), 0, -1));
    return items.map((json) => JSON.parse(json) as Sample);
  }

  async getEvent(eventId: string): Promise<IncomingEvent | undefined> {
    const json = await this.#call(() => this.#redis.hget(`${this.#prefix}event:${eventId}`, "json"));
    return json === null ? undefined : (JSON.parse(json) as IncomingEvent);
  }

  async retryRun(failedRunId: string): Promise<RetryOutcome> {
    const runId = timeOrderedId();
    const reply = await this.#script(RETRY_RUN, [failedRunId, runId]);
    const [outcome, first = "", second = ""] = reply as [string, string?, string?];
    switch (outcome) {
      case "created":
        return { outcome, run: { runId, workflow: first, eventId: second } };
      case "already-retried":
        return { outcome, retriedBy: first };
      case "not-failed":
      case "not-found":
        return { outcome };
      default:
        throw new Error(`unexpected reply from the retry script: ${JSON.stringify(reply)}`);
    }
  }

  async listUnfinishedRuns(limit = Infinity): Promise<RunRef[]> {
    // Only a restart asks, for all of them (BullMQ holds the queue), so the limit is applied here.
    const reply = (await this.#script(LIST_UNFINISHED, [])) as [string, string, string][];
    return reply.slice(0, limit).map(([runId, workflow, eventId]) => ({ runId, workflow, eventId }));
  }

  async startRun(runId: string, nowIso: string): Promise<RunRecord | undefined> {
    return toRunRecord(await this.#script(START_RUN, [runId, nowIso]));
  }

  async recordNode(runId: string, node: NodeRecord): Promise<void> {
    await this.#script(RECORD_NODE, [runId, node.id, JSON.stringify(node)]);
  }

  async finishRun(
    runId: string,
    result: { status: "succeeded" | "failed"; finishedAt: string; error: string | null },
  ): Promise<void> {
    await this.#script(FINISH_RUN, [
      runId,
      result.status,
      result.finishedAt,
      result.error ?? "",
      result.error === null ? "0" : "1",
      this.#runHistoryLimit,
    ]);
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    return toRunRecord(await this.#script(GET_RUN, [runId]));
  }

  async listRuns(query: RunQuery): Promise<RunRecord[]> {
    const reply = await this.#script(LIST_RUNS, [query.workflow ?? "", query.status ?? "", query.limit]);
    return (reply as unknown[]).flatMap((run) => toRunRecord(run) ?? []);
  }

  async getOrCreateSecret(name: string, generate: () => string): Promise<string> {
    const key = `${this.#prefix}secret:${name}`;
    const existing = await this.#call(() => this.#redis.get(key));
    if (existing !== null) return existing;
    const candidate = generate();
    // Another instance may have won the race: NX keeps the first, and everyone reads it back.
    await this.#call(() => this.#redis.set(key, candidate, "NX"));
    return (await this.#call(() => this.#redis.get(key))) ?? candidate;
  }

  async close(): Promise<void> {
    if (this.#redis.status === "end") return;
    if (this.#redis.status !== "ready") {
      this.#redis.disconnect();
      return;
    }
    try {
      await this.#redis.quit();
    } catch {
      // QUIT could not be sent (the connection just dropped): close the socket without it.
      this.#redis.disconnect();
    }
  }

  #dedupKey(dedup: DedupKey): string {
    return `${this.#prefix}dedup:${dedup.scope.length}:${dedup.scope}:${dedup.hash}`;
  }

  #script(target: Parameters<typeof runScript>[1], args: readonly (string | number)[]): Promise<unknown> {
    return this.#call(() => runScript(this.#redis, target, [this.#prefix, ...args]));
  }

  /** Sends a MULTI or pipeline; a command of it that failed fails the whole call. */
  async #exec(batch: ChainableCommander): Promise<void> {
    const results = await this.#call(() => batch.exec());
    const failed = results?.find(([error]) => error !== null)?.[0];
    if (failed) throw new StoreUnavailableError(`Redis store failed: ${failed.message}`, { cause: failed });
  }

  /** Connection refused, timed out, closed: the ingress answers 503 instead of guessing. */
  async #call<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof InletError) throw error;
      throw new StoreUnavailableError(`Redis store failed: ${errorMessage(error)}`, { cause: error });
    }
  }
}

function toRunRecord(reply: unknown): RunRecord | undefined {
  if (!Array.isArray(reply)) return undefined;
  const [flat, nodes] = reply as [string[], (string | null)[]];
  const fields = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) fields.set(flat[i] as string, flat[i + 1] as string);
  return {
    runId: fields.get("runId") ?? "",
    workflow: fields.get("workflow") ?? "",
    eventId: fields.get("eventId") ?? "",
    status: (fields.get("status") ?? "queued") as RunStatus,
    startedAt: fields.get("startedAt") ?? null,
    finishedAt: fields.get("finishedAt") ?? null,
    error: fields.get("error") ?? null,
    nodes: nodes.flatMap((json) => (json === null ? [] : [JSON.parse(json) as NodeRecord])),
    retriedBy: fields.get("retriedBy") ?? null,
  };
}
