import { StoreUnavailableError } from "../errors.js";
import { serializeEvent, type IncomingEvent } from "../ingest/event.js";
import type {
  AcceptInput,
  AcceptOutcome,
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
import { isFinished, retryRefusal, runHistoryLimit, type StoreTuning } from "./store-support.js";
import { timeOrderedId } from "../ids.js";
import { DedupKeyIndex } from "../dedup/key-index.js";

interface MemoryRun {
  readonly runId: string;
  readonly workflow: string;
  readonly eventId: string;
  status: RunStatus;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
  /** Node id → JSON; a Map keeps first-recorded order on upsert. */
  readonly nodes: Map<string, string>;
  retriedBy: string | null;
}

interface MemoryEvent {
  readonly seq: number;
  readonly json: string;
  refs: number;
}

/**
 * Everything in plain Maps; values are kept as JSON so callers can neither mutate the store nor
 * get back anything a durable store could not return. Each method does its work synchronously
 * between awaits, which makes `accept` atomic without locks.
 */
export class MemoryStore implements Store {
  readonly kind = "memory";
  readonly #keys = new DedupKeyIndex();
  readonly #events = new Map<string, MemoryEvent>();
  /** Insertion order is creation order. */
  readonly #runs = new Map<string, MemoryRun>();
  readonly #samples = new Map<string, string[]>();
  readonly #secrets = new Map<string, string>();
  readonly #runHistoryLimit: number;
  #eventSeq = 0;
  #finishedRuns = 0;
  #closed = false;

  constructor(tuning?: StoreTuning) {
    this.#runHistoryLimit = runHistoryLimit(tuning);
  }

  async ping(): Promise<void> {
    this.#assertOpen();
  }

  async accept(input: AcceptInput): Promise<AcceptOutcome> {
    this.#assertOpen();
    const { event, dedup, workflows } = input;
    if (dedup) {
      const now = Date.now();
      const existing = this.#keys.get(dedup.scope, dedup.hash);
      if (existing && existing.expiresAt > now) {
        this.#keys.touch(dedup.scope, dedup.hash, now + dedup.ttlMs);
        return { outcome: "duplicate", firstEventId: existing.firstEventId };
      }
      this.#keys.set(dedup.scope, dedup.hash, {
        firstEventId: event.eventId,
        expiresAt: now + dedup.ttlMs,
        rowId: 0,
      });
    }
    // An event is kept for its runs; one that starts none would never be read again.
    if (workflows.length === 0) return { outcome: "accepted", runs: [] };
    this.#events.set(event.eventId, {
      seq: ++this.#eventSeq,
      json: serializeEvent(event, input.bodyJson),
      refs: 0,
    });
    return { outcome: "accepted", runs: workflows.map((workflow) => this.#addRun(workflow, event.eventId)) };
  }

  async sweepExpiredKeys(nowMs: number): Promise<number> {
    this.#assertOpen();
    return this.#keys.sweep(nowMs);
  }

  async addSample(integration: string, sample: Sample, keep: number): Promise<void> {
    this.#assertOpen();
    if (keep <= 0) return this.trimSamples(new Map([[integration, 0]]));
    const kept = [JSON.stringify(sample), ...(this.#samples.get(integration) ?? [])].slice(0, keep);
    this.#samples.set(integration, kept);
  }

  async trimSamples(keep: ReadonlyMap<string, number>, options: TrimOptions = {}): Promise<void> {
    this.#assertOpen();
    if (options.dropUnlisted) {
      for (const integration of this.#samples.keys())
        if (!keep.has(integration)) this.#samples.delete(integration);
    }
    for (const [integration, count] of keep) {
      const kept = (this.#samples.get(integration) ?? []).slice(0, Math.max(0, count));
      if (kept.length === 0) this.#samples.delete(integration);
      else this.#samples.set(integration, kept);
    }
  }

  async listSamples(integration: string): Promise<Sample[]> {
    this.#assertOpen();
    return (this.#samples.get(integration) ?? []).map((json) => JSON.parse(json) as Sample);
  }

  async getEvent(eventId: string): Promise<IncomingEvent | undefined> {
    this.#assertOpen();
    const event = this.#events.get(eventId);
    return event ? (JSON.parse(event.json) as IncomingEvent) : undefined;
  }

  async retryRun(failedRunId: string): Promise<RetryOutcome> {
    this.#assertOpen();
    const failed = this.#runs.get(failedRunId);
    if (!failed) return { outcome: "not-found" };
    const refusal = retryRefusal(failed);
    if (refusal) return refusal;
    const run = this.#addRun(failed.workflow, failed.eventId);
    failed.retriedBy = run.runId;
    return { outcome: "created", run };
  }

  async listUnfinishedRuns(limit = Infinity): Promise<RunRef[]> {
    this.#assertOpen();
    const runs: RunRef[] = [];
    for (const run of this.#runs.values()) {
      if (runs.length >= limit) break;
      if (!isFinished(run.status)) runs.push(toRunRef(run));
    }
    return runs;
  }

  async startRun(runId: string, nowIso: string): Promise<RunRecord | undefined> {
    this.#assertOpen();
    const run = this.#runs.get(runId);
    if (!run) return undefined;
    if (run.status === "queued") {
      run.status = "running";
      run.startedAt = nowIso;
    }
    return toRunRecord(run);
  }

  async recordNode(runId: string, node: NodeRecord): Promise<void> {
    this.#assertOpen();
    this.#runs.get(runId)?.nodes.set(node.id, JSON.stringify(node));
  }

  async finishRun(
    runId: string,
    result: { status: "succeeded" | "failed"; finishedAt: string; error: string | null },
  ): Promise<void> {
    this.#assertOpen();
    const run = this.#runs.get(runId);
    if (!run) return;
    const wasFinished = isFinished(run.status);
    run.status = result.status;
    run.finishedAt = result.finishedAt;
    run.error = result.error;
    if (!wasFinished) {
      this.#finishedRuns++;
      this.#pruneHistory();
    }
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    this.#assertOpen();
    const run = this.#runs.get(runId);
    return run ? toRunRecord(run) : undefined;
  }

  async listRuns(query: RunQuery): Promise<RunRecord[]> {
    this.#assertOpen();
    const found: RunRecord[] = [];
    for (const run of [...this.#runs.values()].reverse()) {
      if (found.length >= query.limit) break;
      if (query.workflow !== undefined && run.workflow !== query.workflow) continue;
      if (query.status !== undefined && run.status !== query.status) continue;
      found.push(toRunRecord(run));
    }
    return found;
  }

  async getOrCreateSecret(name: string, generate: () => string): Promise<string> {
    this.#assertOpen();
    let secret = this.#secrets.get(name);
    if (secret === undefined) {
      secret = generate();
      this.#secrets.set(name, secret);
    }
    return secret;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#keys.clear();
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreUnavailableError("The memory store is closed");
  }

  #addRun(workflow: string, eventId: string): RunRef {
    const runId = timeOrderedId();
    this.#runs.set(runId, {
      runId,
      workflow,
      eventId,
      status: "queued",
      startedAt: null,
      finishedAt: null,
      error: null,
      nodes: new Map(),
      retriedBy: null,
    });
    const event = this.#events.get(eventId);
    if (event) event.refs++;
    return { runId, workflow, eventId };
  }

  #pruneHistory(): void {
    if (this.#finishedRuns <= this.#runHistoryLimit) return;
    for (const run of this.#runs.values()) {
      if (this.#finishedRuns <= this.#runHistoryLimit) break;
      if (!isFinished(run.status)) continue;
      this.#runs.delete(run.runId);
      this.#finishedRuns--;
      const event = this.#events.get(run.eventId);
      if (event && --event.refs <= 0) this.#events.delete(run.eventId);
    }
    this.#pruneOrphanEvents();
  }

  /** Events accepted with no workflow are never referenced; drop those older than every kept run. */
  #pruneOrphanEvents(): void {
    const oldestRun = this.#runs.values().next();
    const cut = oldestRun.done ? Infinity : (this.#events.get(oldestRun.value.eventId)?.seq ?? Infinity);
    for (const [eventId, event] of this.#events) {
      if (event.seq >= cut) break;
      if (event.refs <= 0) this.#events.delete(eventId);
    }
  }
}

function toRunRef(run: MemoryRun): RunRef {
  return { runId: run.runId, workflow: run.workflow, eventId: run.eventId };
}

function toRunRecord(run: MemoryRun): RunRecord {
  return {
    runId: run.runId,
    workflow: run.workflow,
    eventId: run.eventId,
    status: run.status,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    error: run.error,
    nodes: [...run.nodes.values()].map((json) => JSON.parse(json) as NodeRecord),
    retriedBy: run.retriedBy,
  };
}
