import { randomUUID } from "node:crypto";
import Database from "better-sqlite3";
import { errorMessage, InletError, StoreUnavailableError } from "../errors.js";
import type { IncomingEvent } from "../ingest/event.js";
import { migrateSqlite } from "./sqlite-schema.js";
import { prepareStatements, type RunRow, type SqliteStatements } from "./sqlite-statements.js";
import type {
  AcceptOutcome,
  DedupKey,
  NodeRecord,
  RunQuery,
  RunRecord,
  RunRef,
  Sample,
  Store,
} from "./store.js";
import { eventNotFound, runHistoryLimit, type StoreTuning } from "./store-support.js";

/** How long a write waits for another process's lock before failing as unavailable. */
const SQLITE_BUSY_TIMEOUT_MS = 5000;

interface AcceptInput {
  readonly event: IncomingEvent;
  readonly dedup: DedupKey | null;
  readonly workflows: readonly string[];
}

interface FinishResult {
  status: "succeeded" | "failed";
  finishedAt: string;
  error: string | null;
}

/**
 * better-sqlite3 in WAL mode with synchronous=NORMAL: a committed transaction survives a killed
 * process (not a power cut), which is the guarantee Inlet makes. Every statement is prepared once.
 */
export class SqliteStore implements Store {
  readonly kind = "sqlite";
  readonly #db: Database.Database;
  readonly #runHistoryLimit: number;
  readonly #sql: SqliteStatements;
  readonly #accept: (input: AcceptInput) => AcceptOutcome;
  readonly #finish: (runId: string, result: FinishResult) => void;
  readonly #addSample: (integration: string, json: string, keep: number) => void;
  readonly #secret: (name: string, generate: () => string) => string;

  constructor(file: string, tuning?: StoreTuning) {
    this.#runHistoryLimit = runHistoryLimit(tuning);
    const db = new Database(file, { timeout: SQLITE_BUSY_TIMEOUT_MS });
    this.#db = db;
    try {
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = NORMAL");
      db.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
      migrateSqlite(db);
      this.#sql = prepareStatements(db);
    } catch (error) {
      db.close();
      throw error;
    }

    const acceptTx = db.transaction((input: AcceptInput) => this.#acceptNow(input));
    this.#accept = (input) => acceptTx.immediate(input);
    const finishTx = db.transaction((runId: string, result: FinishResult) => this.#finishNow(runId, result));
    this.#finish = (runId, result) => finishTx.immediate(runId, result);
    const sampleTx = db.transaction((integration: string, json: string, keep: number) => {
      if (keep <= 0) {
        this.#sql.deleteSamples.run(integration);
        return;
      }
      this.#sql.insertSample.run(integration, json);
      this.#sql.trimSamples.run(integration, integration, keep);
    });
    this.#addSample = (integration, json, keep) => sampleTx.immediate(integration, json, keep);
    const secretTx = db.transaction((name: string, generate: () => string) => {
      const existing = this.#sql.selectSecret.get(name);
      if (existing !== undefined) return existing;
      const secret = generate();
      this.#sql.insertSecret.run(name, secret);
      return secret;
    });
    this.#secret = (name, generate) => secretTx.immediate(name, generate);
  }

  async ping(): Promise<void> {
    this.#guard(() => this.#sql.ping.get());
  }

  async accept(input: AcceptInput): Promise<AcceptOutcome> {
    return this.#guard(() => this.#accept(input));
  }

  async sweepExpiredKeys(nowMs: number): Promise<number> {
    return this.#guard(() => this.#sql.sweepKeys.run(nowMs).changes);
  }

  async addSample(integration: string, sample: Sample, keep: number): Promise<void> {
    const json = JSON.stringify(sample);
    this.#guard(() => this.#addSample(integration, json, keep));
  }

  async listSamples(integration: string): Promise<Sample[]> {
    return this.#guard(() => this.#sql.listSamples.all(integration)).map(
      (json) => JSON.parse(json) as Sample,
    );
  }

  async getEvent(eventId: string): Promise<IncomingEvent | undefined> {
    const json = this.#guard(() => this.#sql.selectEvent.get(eventId));
    return json === undefined ? undefined : (JSON.parse(json) as IncomingEvent);
  }

  async createRun(input: { readonly workflow: string; readonly eventId: string }): Promise<RunRef> {
    return this.#guard(() => {
      if (this.#sql.selectEvent.get(input.eventId) === undefined) throw eventNotFound(input.eventId);
      return this.#insertRun(input.workflow, input.eventId);
    });
  }

  async listUnfinishedRuns(): Promise<RunRef[]> {
    return this.#guard(() => this.#sql.listUnfinished.all()).map((row) => ({
      runId: row.run_id,
      workflow: row.workflow,
      eventId: row.event_id,
    }));
  }

  async startRun(runId: string, nowIso: string): Promise<RunRecord | undefined> {
    return this.#guard(() => {
      this.#sql.startRun.run(nowIso, runId);
      return this.#readRun(runId);
    });
  }

  async recordNode(runId: string, node: NodeRecord): Promise<void> {
    const json = JSON.stringify(node);
    this.#guard(() => this.#sql.upsertNode.run(runId, node.id, json, runId));
  }

  async finishRun(runId: string, result: FinishResult): Promise<void> {
    this.#guard(() => this.#finish(runId, result));
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    return this.#guard(() => this.#readRun(runId));
  }

  async listRuns(query: RunQuery): Promise<RunRecord[]> {
    return this.#guard(() => {
      const { workflow, status, limit } = query;
      const rows =
        workflow !== undefined && status !== undefined
          ? this.#sql.listByBoth.all(workflow, status, limit)
          : workflow !== undefined
            ? this.#sql.listByWorkflow.all(workflow, limit)
            : status !== undefined
              ? this.#sql.listByStatus.all(status, limit)
              : this.#sql.listAll.all(limit);
      return rows.map((row) => this.#toRecord(row));
    });
  }

  async getOrCreateSecret(name: string, generate: () => string): Promise<string> {
    return this.#guard(() => this.#secret(name, generate));
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#guard(() => this.#db.close());
  }

  #acceptNow(input: AcceptInput): AcceptOutcome {
    const { event, dedup, workflows } = input;
    if (dedup) {
      const now = Date.now();
      const existing = this.#sql.selectKey.get(dedup.scope, dedup.hash);
      if (existing && existing.expires_at > now) {
        this.#sql.touchKey.run(now + dedup.ttlMs, dedup.scope, dedup.hash);
        return { outcome: "duplicate", firstEventId: existing.first_event_id };
      }
      this.#sql.upsertKey.run(dedup.scope, dedup.hash, event.eventId, now + dedup.ttlMs);
    }
    // An event is kept for its runs; one that starts none would never be read again.
    if (workflows.length === 0) return { outcome: "accepted", runs: [] };
    this.#sql.insertEvent.run(event.eventId, JSON.stringify(event));
    return {
      outcome: "accepted",
      runs: workflows.map((workflow) => this.#insertRun(workflow, event.eventId)),
    };
  }

  #finishNow(runId: string, result: FinishResult): void {
    if (this.#sql.finishRun.run(result.status, result.finishedAt, result.error, runId).changes === 0) return;
    const excess = (this.#sql.finishedCount.get() ?? 0) - this.#runHistoryLimit;
    if (excess <= 0) return;
    for (const old of this.#sql.oldestFinished.all(excess)) {
      this.#sql.deleteNodes.run(old.run_id);
      this.#sql.deleteRun.run(old.run_id);
      this.#sql.deleteUnreferencedEvent.run(old.event_id, old.event_id);
    }
    this.#sql.deleteOrphanEvents.run();
  }

  #insertRun(workflow: string, eventId: string): RunRef {
    const runId = randomUUID();
    this.#sql.insertRun.run(runId, workflow, eventId);
    return { runId, workflow, eventId };
  }

  #readRun(runId: string): RunRecord | undefined {
    const row = this.#sql.selectRun.get(runId);
    return row ? this.#toRecord(row) : undefined;
  }

  #toRecord(row: RunRow): RunRecord {
    return {
      runId: row.run_id,
      workflow: row.workflow,
      eventId: row.event_id,
      status: row.status,
      startedAt: row.started_at,
      finishedAt: row.finished_at,
      error: row.error,
      nodes: this.#sql.selectNodes.all(row.run_id).map((json) => JSON.parse(json) as NodeRecord),
    };
  }

  /** Disk full, busy, closed: the ingress answers 503 rather than guessing. Our own errors pass. */
  #guard<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      if (error instanceof InletError) throw error;
      throw new StoreUnavailableError(`SQLite store failed: ${errorMessage(error)}`, { cause: error });
    }
  }
}
