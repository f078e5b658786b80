import type { IncomingEvent } from "../ingest/event.js";

/** A claimed deduplication hash, scoped to one integration. Only the hash is ever stored. */
export interface DedupKey {
  readonly scope: string;
  readonly hash: string;
  readonly ttlMs: number;
}

export interface AcceptInput {
  readonly event: IncomingEvent;
  /**
   * The body as the sender wrote it, when the caller has it: JSON text that parses to `event.body`,
   * stored as it is (serializeEvent) rather than serialised again.
   */
  readonly bodyJson?: string;
  readonly dedup: DedupKey | null;
  readonly workflows: readonly string[];
}

export type AcceptOutcome =
  | { readonly outcome: "accepted"; readonly runs: readonly RunRef[] }
  /** The key lives and its first event is recorded: 204. The key's TTL has been renewed. */
  | { readonly outcome: "duplicate"; readonly firstEventId: string };

export interface RunRef {
  readonly runId: string;
  readonly workflow: string;
  readonly eventId: string;
}

export interface Sample {
  readonly eventId: string;
  readonly receivedAt: string;
  readonly request: {
    readonly method: string;
    readonly headers: Readonly<Record<string, string>>;
    readonly query: Readonly<Record<string, string | string[]>>;
    readonly body: unknown;
  };
  readonly flattened: Readonly<Record<string, unknown>>;
}

export interface TrimOptions {
  /** Also delete the samples of every integration not in the map. */
  readonly dropUnlisted?: boolean;
}

export type RunStatus = "queued" | "running" | "succeeded" | "failed";
export type NodeStatus = "running" | "succeeded" | "failed";

export interface NodeRecord {
  readonly id: string;
  readonly type: string;
  readonly status: NodeStatus;
  readonly attempts: number;
  readonly startedAt: string;
  readonly durationMs: number | null;
  readonly output: unknown;
  readonly error: string | null;
}

export interface RunRecord {
  readonly runId: string;
  readonly workflow: string;
  readonly eventId: string;
  readonly status: RunStatus;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly error: string | null;
  readonly nodes: readonly NodeRecord[];
  /** The run that retried this failed run (retryRun), or null: a failed run is retried once. */
  readonly retriedBy: string | null;
}

export type RetryOutcome =
  | { readonly outcome: "created"; readonly run: RunRef }
  /** The run was retried before, by run `retriedBy`: nothing was created. */
  | { readonly outcome: "already-retried"; readonly retriedBy: string }
  | { readonly outcome: "not-failed" }
  /** Unknown, or pruned from the history. */
  | { readonly outcome: "not-found" };

export interface RunQuery {
  readonly workflow?: string;
  readonly status?: RunStatus;
  readonly limit: number;
}

/**
 * Everything Inlet keeps. Three implementations (memory:, sqlite:, redis://) pass one
 * conformance suite (test/store/conformance.ts). Methods reject with StoreUnavailableError when
 * the backing store cannot be reached, so the ingress can answer 503 instead of guessing.
 */
export interface Store {
  readonly kind: "memory" | "sqlite" | "redis";
  /** Resolves when the store answers; used by /readyz. */
  ping(): Promise<void>;

  /**
   * Claims the dedup key (when given) and records the event with one queued run per workflow, as
   * one atomic step: there is never a claimed key whose event is not yet durable, so a duplicate
   * is always answered 204, and a failure leaves no key behind (the sender's retry is new).
   * A duplicate renews the key's TTL (sliding) and records nothing.
   */
  accept(input: AcceptInput): Promise<AcceptOutcome>;
  /** Deletes expired dedup keys one by one (never clearing a namespace); returns how many. */
  sweepExpiredKeys(nowMs: number): Promise<number>;

  addSample(integration: string, sample: Sample, keep: number): Promise<void>;
  /**
   * Keeps only the newest `keep.get(id)` samples of each listed integration (none for 0): its config
   * keeps fewer. With `dropUnlisted`, also deletes every sample of an integration not listed: a
   * start lists the whole config. One write for the lot, however many are listed.
   */
  trimSamples(keep: ReadonlyMap<string, number>, options?: TrimOptions): Promise<void>;
  /** Newest first. */
  listSamples(integration: string): Promise<Sample[]>;

  getEvent(eventId: string): Promise<IncomingEvent | undefined>;
  /**
   * A new queued run of the failed run's workflow on its event, marking the failed run as retried
   * by it, as one atomic step: of concurrent retries of one run (on any instance), one creates a
   * run and the others answer already-retried. The mark lives as long as the failed run's record.
   */
  retryRun(failedRunId: string): Promise<RetryOutcome>;
  /** Queued and running runs, oldest first (at most `limit`): what a restart must resume. */
  listUnfinishedRuns(limit?: number): Promise<RunRef[]>;
  /** Marks a run running (if queued) and returns its record; undefined if it is unknown. */
  startRun(runId: string, nowIso: string): Promise<RunRecord | undefined>;
  /** Upserts one node's record within a run (by node id). */
  recordNode(runId: string, node: NodeRecord): Promise<void>;
  finishRun(
    runId: string,
    result: { status: "succeeded" | "failed"; finishedAt: string; error: string | null },
  ): Promise<void>;
  getRun(runId: string): Promise<RunRecord | undefined>;
  /** Newest first. */
  listRuns(query: RunQuery): Promise<RunRecord[]>;

  /** A persistent secret by name, generated once with `generate` when absent (JWT signing key). */
  getOrCreateSecret(name: string, generate: () => string): Promise<string>;

  close(): Promise<void>;
}
