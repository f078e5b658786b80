import Database from "better-sqlite3";
import { errorMessage, InletError, StoreUnavailableError } from "../errors.js";
import { serializeEvent, type IncomingEvent } from "../ingest/event.js";
import { migrateSqlite, SQLITE_SCHEMA_VERSION, SQLITE_SERVER_ROW_VERSION } from "./sqlite-schema.js";
import { DedupKeyIndex } from "../dedup/key-index.js";
import {
  RUN_PRUNE_SLACK_SHARE,
  SQLITE_ACCEPTED_RUNS_REMEMBERED,
  SQLITE_BUSY_TIMEOUT_MS,
} from "../defaults.js";
import { processIdentity } from "./process-identity.js";
import { SqliteCheckpointer } from "./sqlite-checkpointer.js";
import { SqliteGroupCommit, type OnRollback } from "./sqlite-group-commit.js";
import { prepareStatements, type RunRow, type SqliteStatements } from "./sqlite-statements.js";
import type {
  AcceptInput,
  AcceptOutcome,
  NodeRecord,
  RetryOutcome,
  RunQuery,
  RunRecord,
  RunRef,
  Sample,
  Store,
  TrimOptions,
} from "./store.js";
import { isFinished, retryRefusal, runHistoryLimit, type StoreTuning } from "./store-support.js";
import { timeOrderedId } from "../ids.js";

/** Expired key rows deleted per transaction, so a large sweep never holds the writer for long. */
const SWEEP_DELETE_CHUNK = 5000;
/** Waiting events (each with its runs) made rows per transaction when all must be (a retry). */
const TAKE_RUNS_CHUNK = 5000;

/** What the file does not yet say of a run started by this store. */
interface StartedRun {
  readonly startedAt: string;
  /** Nodes running now, by id, in the order they started. */
  running: Map<string, NodeRecord>;
}

/** A run this store accepted and has not started: queued, with no node records. */
interface AcceptedRun {
  readonly workflow: string;
  readonly eventId: string;
}

interface FinishResult {
  status: "succeeded" | "failed";
  finishedAt: string;
  error: string | null;
}

/**
 * better-sqlite3 in WAL mode with synchronous=NORMAL: a committed transaction survives a killed
 * process (not a power cut), which is the guarantee Inlet makes. Every statement is prepared once;
 * every write goes through one group commit per event-loop turn.
 *
 * An accepted event holds its queued runs in its own row: they wait there, as durable as a row of
 * `runs`, until the runner starts one or a caller needs them as rows, and then the runs of every
 * event up to it become rows, in accept order (the event keeps its copy of the list). A saturated
 * ingress thus writes one row an event where it wrote two with four indexes, and the runner,
 * which takes runs in accept order, makes the rows at its own pace. Reads see waiting runs as
 * queued ones. Finding a run that does not wait (an unknown id) reads every waiting event.
 *
 * A run this store started is running in memory only, with its nodes' `running` records, until
 * its first finished node or its finish is written: the file still says queued. A killed process
 * resumes a queued run as it would a running one, and runs a node recorded running again either
 * way, so nothing durable is lost, and a run of one node commits once (its last record with its
 * finish) where it committed three times. Reads show the run as running. One process writes runs
 * to the file (the server claims it), so this process's memory is the whole truth about what runs.
 *
 * For the same reason a run this store accepted is known to be queued, with no node records, until
 * it starts: its start reads nothing from the file, and its event's JSON is kept from the accept
 * until the first read of it (up to SQLITE_ACCEPTED_RUNS_REMEMBERED runs). A read outside a write
 * takes and releases the WAL's read lock, two system calls that cost several microseconds each on
 * a virtual machine; a run's start and its event had read the file four times.
 */
export class SqliteStore implements Store {
  readonly kind = "sqlite";
  readonly #db: Database.Database;
  readonly #runHistoryLimit: number;
  /** The history may exceed its limit by less than this (1 %) before the oldest runs are pruned. */
  readonly #pruneBatch: number;
  readonly #sql: SqliteStatements;
  readonly #commit: SqliteGroupCommit;
  /** Set when this store serves (owns the keys); its server row is removed on close. */
  readonly #serverToken: string | null;
  readonly #checkpointer: SqliteCheckpointer | null;
  /**
   * Finished runs in the history, counted once at open and kept with every finish and prune: one
   * process writes runs to the file (the server claims it), and a counter row would be one more
   * page in the WAL at every finish.
   */
  #finishedRuns: number;
  /** Runs started here and not finished, by run id: running in memory only (see above). */
  readonly #started = new Map<string, StartedRun>();
  /** Runs accepted here and not started or written since, by run id (see the class comment). */
  readonly #accepted = new Map<string, AcceptedRun>();
  /** The JSON of their events as written, by event id, until first read. */
  readonly #acceptedEvents = new Map<string, string>();
  #keys: DedupKeyIndex | null = null;
  #closing: Promise<void> | null = null;

  /**
   * `serve` claims the file for this process (a second server on it is refused: the dedup keys
   * are looked up in this process's memory), loads the keys now rather than at the first request,
   * and moves checkpoints to their own thread (sqlite-checkpointer.ts); `onError` hears if it fails.
   */
  constructor(
    file: string,
    options: {
      tuning?: StoreTuning;
      serve?: boolean;
      onError?: (error: Error) => void;
      onLockWait?: (ms: number) => void;
    } = {},
  ) {
    const { tuning, serve = false } = options;
    this.#runHistoryLimit = runHistoryLimit(tuning);
    this.#pruneBatch = Math.max(1, Math.floor(this.#runHistoryLimit * RUN_PRUNE_SLACK_SHARE));
    const db = new Database(file, { timeout: SQLITE_BUSY_TIMEOUT_MS });
    this.#db = db;
    let checkpointer: SqliteCheckpointer | null = null;
    let claimed: string | null = null;
    try {
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = NORMAL");
      db.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
      migrateSqlite(db, (fromVersion) => refuseUpgradeUnderServer(db, file, fromVersion));
      this.#sql = prepareStatements(db);
      this.#finishedRuns = this.#sql.finishedCount.get() ?? 0;
      checkpointer = serve ? new SqliteCheckpointer(db, { file, onError: options.onError }) : null;
      claimed = serve ? this.#claimServer(file) : null;
      this.#serverToken = claimed;
      if (serve) this.#index();
    } catch (error) {
      void checkpointer?.stop();
      try {
        if (claimed !== null) this.#releaseServer(claimed);
      } catch {
        // The start's own error matters more; a row left behind names this process, and this
        // process no longer counts it as live (its token is forgotten).
      }
      db.close();
      throw error;
    }
    this.#checkpointer = checkpointer;
    this.#commit = new SqliteGroupCommit(db, { onLockWait: options.onLockWait });
  }

  async ping(): Promise<void> {
    this.#guard(() => this.#sql.ping.get());
  }

  async accept(input: AcceptInput): Promise<AcceptOutcome> {
    return this.#write((onRollback) => this.#acceptNow(input, onRollback));
  }

  /** Forgets expired keys in memory at once, then deletes their rows a chunk per transaction. */
  async sweepExpiredKeys(nowMs: number): Promise<number> {
    const rowIds: number[] = [];
    const swept = this.#guard(() => this.#index()).sweep(nowMs, (rowId) => rowIds.push(rowId));
    for (let start = 0; start < rowIds.length; start += SWEEP_DELETE_CHUNK) {
      const chunk = rowIds.slice(start, start + SWEEP_DELETE_CHUNK);
      // A killed process leaves these rows expired; loading the index at the next start deletes them.
      await this.#write(() => {
        for (const rowId of chunk) this.#sql.deleteKey.run(rowId);
      });
    }
    return swept;
  }

  async addSample(integration: string, sample: Sample, keep: number): Promise<void> {
    const json = JSON.stringify(sample);
    await this.#write(() => {
      if (keep > 0) this.#sql.insertSample.run(integration, json);
      this.#trimSamplesNow(integration, keep);
    });
  }

  async trimSamples(keep: ReadonlyMap<string, number>, options: TrimOptions = {}): Promise<void> {
    if (keep.size === 0 && !options.dropUnlisted) return;
    await this.#write(() => {
      if (options.dropUnlisted) this.#sql.deleteUnlistedSamples.run(JSON.stringify([...keep.keys()]));
      for (const [integration, count] of keep) this.#trimSamplesNow(integration, count);
    });
  }

  async listSamples(integration: string): Promise<Sample[]> {
    return this.#guard(() => this.#sql.listSamples.all(integration)).map(
      (json) => JSON.parse(json) as Sample,
    );
  }

  async getEvent(eventId: string): Promise<IncomingEvent | undefined> {
    const remembered = this.#acceptedEvents.get(eventId);
    // Parsed again for each reader, as a read of the file would be: no run sees another's objects.
    this.#acceptedEvents.delete(eventId);
    const json = remembered ?? this.#guard(() => this.#sql.selectEvent.get(eventId));
    return json === undefined ? undefined : (JSON.parse(json) as IncomingEvent);
  }

  async retryRun(failedRunId: string): Promise<RetryOutcome> {
    // The waiting runs become rows first, so the retry is listed after them: a chunk per
    // transaction while a chunk's worth waits, so that a long backlog does not hold the event
    // loop in one, and the last few with the retry itself.
    let made = TAKE_RUNS_CHUNK;
    while (made >= TAKE_RUNS_CHUNK) made = await this.#write(() => this.#takeOldestRuns(TAKE_RUNS_CHUNK));
    // The mark is read and set in the write that inserts the retry: a concurrent retry's write
    // comes before or after this one, never between, and sees the mark (or is rolled back with it).
    return this.#write((): RetryOutcome => {
      const failed = this.#readStoredRun(failedRunId);
      if (!failed) return { outcome: "not-found" };
      const refusal = retryRefusal(failed);
      if (refusal) return refusal;
      this.#takeOldestRuns();
      const run = this.#insertRun(failed.workflow, failed.eventId);
      this.#sql.setRetriedBy.run(run.runId, failedRunId);
      return { outcome: "created", run };
    });
  }

  async listUnfinishedRuns(limit?: number): Promise<RunRef[]> {
    const rows = await this.#write(() => {
      // SQLite reads a negative LIMIT as none.
      const listed = this.#sql.listUnfinished.all(limit ?? -1);
      const short = limit === undefined ? undefined : limit - listed.length;
      if (short !== undefined && short <= 0) return listed;
      // Every run row is older than every waiting run, and each waiting event holds one run or
      // more: rows of the oldest `short` waiting events make up the page.
      return this.#takeOldestRuns(short) > 0 ? this.#sql.listUnfinished.all(limit ?? -1) : listed;
    });
    return rows.map((row) => ({ runId: row.run_id, workflow: row.workflow, eventId: row.event_id }));
  }

  /** Marks the run running in memory only (see the class comment): no write, so no commit. */
  async startRun(runId: string, nowIso: string): Promise<RunRecord | undefined> {
    return this.#guard(() => {
      const accepted = this.#accepted.get(runId);
      this.#accepted.delete(runId);
      const record = accepted ? queuedRecord(runId, accepted) : this.#readStoredRun(runId);
      if (!record || isFinished(record.status)) return record;
      if (!this.#started.has(runId)) {
        // A run a killed process left running keeps its first start.
        this.#started.set(runId, { startedAt: record.startedAt ?? nowIso, running: new Map() });
      }
      return this.#withStarted(record);
    });
  }

  /**
   * A started run's `running` record stays in memory. A finished node's record is written, after
   * the records of the run's nodes that started before it and still run (parallel branches), so
   * the file lists nodes in the order they started.
   */
  async recordNode(runId: string, node: NodeRecord): Promise<void> {
    this.#accepted.delete(runId);
    const started = this.#started.get(runId);
    if (started && node.status === "running") {
      started.running.set(node.id, node);
      return;
    }
    await this.#write((onRollback) =>
      this.#writeToRunRow(runId, () => this.#putNodes(runId, node, onRollback)),
    );
  }

  async finishRun(runId: string, result: FinishResult): Promise<void> {
    this.#accepted.delete(runId);
    await this.#write((onRollback) =>
      this.#writeToRunRow(runId, () => {
        if (!this.#finishNow(runId, result, onRollback)) return false;
        const started = this.#started.get(runId);
        // Nodes still running at the finish are kept as they were last seen. From the engine there
        // are none (it has recorded each), and the row is not read again for them.
        if (started && started.running.size > 0) this.#putNodes(runId, null, onRollback);
        if (started) {
          this.#started.delete(runId);
          onRollback(() => this.#started.set(runId, started));
        }
        return true;
      }),
    );
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    return this.#guard(() => {
      const record = this.#readStoredRun(runId);
      return record && this.#withStarted(record);
    });
  }

  /** Waiting runs are the newest: they come first, then run rows up to the limit. */
  async listRuns(query: RunQuery): Promise<RunRecord[]> {
    return this.#guard(() => {
      const { workflow, status, limit } = query;
      if (status === "running") return this.#listRunning(workflow, limit);
      // Runs started here are queued in the file: read enough to leave them out and still fill the page.
      const wanted = status === "queued" ? limit + this.#started.size : limit;
      const waiting =
        status === undefined || status === "queued"
          ? this.#sql.listWaiting.all({
              through: this.#runRowsThrough(),
              workflow: workflow ?? null,
              limit: wanted,
            })
          : [];
      const rest = wanted - waiting.length;
      const rows =
        rest <= 0
          ? []
          : workflow !== undefined && status !== undefined
            ? this.#sql.listByBoth.all(workflow, status, rest)
            : workflow !== undefined
              ? this.#sql.listByWorkflow.all(workflow, rest)
              : status !== undefined
                ? this.#sql.listByStatus.all(status, rest)
                : this.#sql.listAll.all(rest);
      const records = [
        ...waiting.map((row) => this.#toRecord(row)),
        ...rows.map((row) => this.#toRecord(row)),
      ].map((record) => this.#withStarted(record));
      return (status === undefined ? records : records.filter((record) => record.status === status)).slice(
        0,
        limit,
      );
    });
  }

  async getOrCreateSecret(name: string, generate: () => string): Promise<string> {
    return this.#write(() => {
      const existing = this.#sql.selectSecret.get(name);
      if (existing !== undefined) return existing;
      const secret = generate();
      this.#sql.insertSecret.run(name, secret);
      return secret;
    });
  }

  /** Idempotent: a second call waits for the first. */
  close(): Promise<void> {
    this.#closing ??= this.#closeOnce();
    return this.#closing;
  }

  async #closeOnce(): Promise<void> {
    if (!this.#db.open) return;
    // The thread's connection closes first, so this one is the last: SQLite checkpoints and
    // removes the WAL then. Writes queued meanwhile are committed by the flush after it.
    await this.#checkpointer?.stop();
    this.#commit.flush();
    this.#guard(() => {
      try {
        if (this.#serverToken !== null) this.#releaseServer(this.#serverToken);
      } finally {
        this.#db.close();
      }
    });
    this.#keys?.clear();
  }

  /**
   * SQL first, memory second, each memory change with its undo: a statement that throws leaves the
   * index untouched, and a rolled-back savepoint or batch restores it (sqlite-group-commit.ts).
   */
  #acceptNow(input: AcceptInput, onRollback: OnRollback): AcceptOutcome {
    const { event, dedup, workflows } = input;
    if (dedup) {
      const keys = this.#index();
      const { scope, hash } = dedup;
      const now = Date.now();
      const expiresAt = now + dedup.ttlMs;
      const existing = keys.get(scope, hash);
      if (existing && existing.expiresAt > now) {
        this.#sql.touchKey.run(expiresAt, existing.rowId);
        keys.touch(scope, hash, expiresAt);
        onRollback(() => keys.touch(scope, hash, existing.expiresAt));
        return { outcome: "duplicate", firstEventId: existing.firstEventId };
      }
      if (existing) {
        // Expired but not swept yet: the row is reused for the new first event.
        this.#sql.reclaimKey.run(event.eventId, expiresAt, existing.rowId);
        keys.set(scope, hash, { firstEventId: event.eventId, expiresAt, rowId: existing.rowId });
        onRollback(() => keys.set(scope, hash, existing));
      } else {
        const rowId = Number(this.#sql.insertKey.run(scope, hash, event.eventId, expiresAt).lastInsertRowid);
        keys.set(scope, hash, { firstEventId: event.eventId, expiresAt, rowId });
        onRollback(() => keys.delete(scope, hash));
      }
    }
    // An event is kept for its runs; one that starts none would never be read again.
    if (workflows.length === 0) return { outcome: "accepted", runs: [] };
    const runs = workflows.map((workflow) => ({ runId: timeOrderedId(), workflow, eventId: event.eventId }));
    const waiting = JSON.stringify(runs.map((run) => [run.runId, run.workflow]));
    const json = serializeEvent(event, input.bodyJson);
    this.#sql.insertEvent.run(event.eventId, json, waiting);
    this.#rememberAccepted(runs, json, onRollback);
    return { outcome: "accepted", runs };
  }

  /** Only a serving store writes runs, so only its memory of what it accepted stays true. */
  #rememberAccepted(runs: readonly RunRef[], eventJson: string, onRollback: OnRollback): void {
    if (this.#serverToken === null) return;
    if (this.#accepted.size + runs.length > SQLITE_ACCEPTED_RUNS_REMEMBERED) return;
    if (this.#acceptedEvents.size >= SQLITE_ACCEPTED_RUNS_REMEMBERED) return;
    for (const { runId, workflow, eventId } of runs) this.#accepted.set(runId, { workflow, eventId });
    const { eventId } = runs[0]!;
    this.#acceptedEvents.set(eventId, eventJson);
    onRollback(() => {
      for (const { runId } of runs) this.#accepted.delete(runId);
      this.#acceptedEvents.delete(eventId);
    });
  }

  /** Running runs, newest first: rows the file says are running (a killed process's) and those started here. */
  #listRunning(workflow: string | undefined, limit: number): RunRecord[] {
    const rows =
      workflow === undefined
        ? this.#sql.listByStatus.all("running", limit)
        : this.#sql.listByBoth.all(workflow, "running", limit);
    const byId = new Map(rows.map((row) => [row.run_id, this.#withStarted(this.#toRecord(row))]));
    for (const runId of this.#started.keys()) {
      if (byId.has(runId)) continue;
      const record = this.#readStoredRun(runId);
      if (record && !isFinished(record.status) && (workflow === undefined || record.workflow === workflow)) {
        byId.set(runId, this.#withStarted(record));
      }
    }
    // Run ids are time-ordered, as the file's seq is: newest first, like every other list.
    return [...byId.values()].sort((a, b) => (a.runId < b.runId ? 1 : -1)).slice(0, limit);
  }

  /** The run as the file has it: a row, or a run still waiting in its event. */
  #readStoredRun(runId: string): RunRecord | undefined {
    const row = this.#sql.selectRun.get(runId);
    if (row) return this.#toRecord(row);
    const waiting = this.#sql.selectWaitingRun.get(this.#runRowsThrough(), runId);
    return waiting ? this.#toRecord(waiting) : undefined;
  }

  /** The record with what this process knows and has not written: the run is running, and which nodes run. */
  #withStarted(record: RunRecord): RunRecord {
    const started = this.#started.get(record.runId);
    if (!started || isFinished(record.status)) return record;
    const nodes = record.nodes.map((node) => started.running.get(node.id) ?? node);
    for (const node of started.running.values()) {
      if (!record.nodes.some((stored) => stored.id === node.id)) nodes.push(node);
    }
    return {
      runId: record.runId,
      workflow: record.workflow,
      eventId: record.eventId,
      status: "running",
      startedAt: started.startedAt,
      finishedAt: record.finishedAt,
      error: record.error,
      nodes,
      retriedBy: record.retriedBy,
    };
  }

  /**
   * Writes `node`'s record to the run's row, after the `running` records held in memory of the
   * nodes that started before it (all of them for null), and forgets those and `node`'s: the file
   * has them now. False, writing nothing, when the run is not a row.
   */
  #putNodes(runId: string, node: NodeRecord | null, onRollback: OnRollback): boolean {
    const stored = this.#sql.selectNodes.get(runId);
    if (stored === undefined) return false;
    const records = this.#takeStartedNodes(runId, node?.id ?? null, onRollback);
    if (node) records.push(node);
    if (records.length > 0) {
      this.#sql.setNodes.run(JSON.stringify(withNodes(stored.nodes, records)), runId);
    }
    return true;
  }

  /** The `running` records of the nodes that started before node `nodeId`, taken out of memory with `nodeId`'s. */
  #takeStartedNodes(runId: string, nodeId: string | null, onRollback: OnRollback): NodeRecord[] {
    const started = this.#started.get(runId);
    if (!started || started.running.size === 0) return [];
    const before = started.running;
    const after = new Map<string, NodeRecord>();
    const taken: NodeRecord[] = [];
    let reached = false;
    for (const [id, node] of before) {
      reached ||= id === nodeId;
      if (!reached) taken.push(node);
      else if (id !== nodeId) after.set(id, node);
    }
    started.running = after;
    onRollback(() => {
      started.running = before;
    });
    return taken;
  }

  /** Every event up to this seq has its runs as rows; the runs of later ones wait in them. */
  #runRowsThrough(): number {
    return this.#sql.runRowsThrough.get() ?? 0;
  }

  /**
   * Runs `write` (true when it found the run's row), and if the run still waits in its event, makes
   * the rows and runs it again. Only a run's first write finds it waiting (a start writes nothing):
   * the later ones are spared the look-up of #takeRunsThrough.
   */
  #writeToRunRow(runId: string, write: () => boolean): void {
    if (write()) return;
    this.#takeRunsThrough(runId);
    write();
  }

  /** Makes rows of the runs waiting in events up to the one holding `runId`, if it waits. */
  #takeRunsThrough(runId: string): void {
    if (this.#sql.selectRun.get(runId) !== undefined) return;
    const through = this.#runRowsThrough();
    const seq = this.#sql.eventOfWaitingRun.get(through, runId);
    if (seq !== undefined) this.#takeRuns(through, seq);
  }

  /**
   * Makes rows of the runs of the oldest `events` waiting events (of every one without a count);
   * returns how many run rows that made.
   */
  #takeOldestRuns(events?: number): number {
    const through = this.#runRowsThrough();
    const last =
      (events === undefined ? undefined : this.#sql.waitingEventAt.get(through, events - 1)) ??
      this.#sql.lastEventSeq.get() ??
      through;
    return last > through ? this.#takeRuns(through, last) : 0;
  }

  /** Makes rows of the runs of the events after `through` up to `last`; returns how many. */
  #takeRuns(through: number, last: number): number {
    const made = this.#sql.insertWaitingRuns.run(through, last).changes;
    this.#sql.setRunRowsThrough.run(last);
    return made;
  }

  #trimSamplesNow(integration: string, keep: number): void {
    if (keep <= 0) this.#sql.deleteSamples.run(integration);
    else this.#sql.trimSamples.run(integration, integration, keep);
  }

  /** False when the run is not a row. */
  #finishNow(runId: string, result: FinishResult, onRollback: OnRollback): boolean {
    const before = this.#sql.runStatus.get(runId);
    if (before === undefined) return false;
    const startedAt = this.#started.get(runId)?.startedAt ?? null;
    this.#sql.finishRun.run(result.status, startedAt, result.finishedAt, result.error, runId);
    if (!isFinished(before)) this.#countFinished(1, onRollback);
    const excess = this.#finishedRuns - this.#runHistoryLimit;
    // Pruned a batch at a time: neighbouring rows share pages, so a hundred deletes cost little more than one.
    if (excess < this.#pruneBatch) return true;
    const oldest = this.#sql.oldestFinished.all(excess);
    for (const old of oldest) {
      // An event none of whose runs read it (only a caller other than the runner does that).
      this.#acceptedEvents.delete(old.event_id);
      this.#sql.deleteRun.run(old.run_id);
      this.#sql.deleteUnreferencedEvent.run(old.event_id, old.event_id);
    }
    this.#sql.deleteOrphanEvents.run();
    this.#countFinished(-oldest.length, onRollback);
    return true;
  }

  /** Moves the count of finished runs with the SQL that changed it, and back if that is rolled back. */
  #countFinished(change: number, onRollback: OnRollback): void {
    this.#finishedRuns += change;
    onRollback(() => {
      this.#finishedRuns -= change;
    });
  }

  /** The live keys, loaded on first use; expired rows left by a killed process are deleted then. */
  #index(): DedupKeyIndex {
    if (this.#keys) return this.#keys;
    const keys = new DedupKeyIndex();
    const now = Date.now();
    this.#db
      .transaction(() => {
        this.#sql.deleteExpiredKeys.run(now);
        for (const row of this.#sql.liveKeys.iterate(now)) {
          keys.set(row.scope, row.hash, {
            firstEventId: row.first_event_id,
            expiresAt: row.expires_at,
            rowId: row.id,
          });
        }
      })
      .immediate();
    this.#keys = keys;
    return keys;
  }

  /** Hands the file back: this process forgets the token even if its row cannot be deleted. */
  #releaseServer(token: string): void {
    tokensServedHere.delete(token);
    this.#sql.releaseServer.run(token);
  }

  /** Records this process as the file's server, unless another live one is. */
  #claimServer(file: string): string {
    const token = timeOrderedId();
    this.#db
      .transaction(() => {
        const serving = liveServer(this.#db);
        if (serving !== null) {
          throw new InletError(
            "store-in-use",
            `The SQLite store ${file} is served by process ${serving}: one Inlet server per SQLite file (several instances share a Redis store)`,
          );
        }
        this.#sql.claimServer.run(process.pid, token, new Date().toISOString(), processIdentity(process.pid));
      })
      .immediate();
    tokensServedHere.add(token);
    return token;
  }

  #insertRun(workflow: string, eventId: string): RunRef {
    const runId = timeOrderedId();
    this.#sql.insertRun.run(runId, workflow, eventId);
    return { runId, workflow, eventId };
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
      nodes: row.nodes === null ? [] : (JSON.parse(row.nodes) as NodeRecord[]),
      retriedBy: row.retried_by,
    };
  }

  /** A write joins this turn's group commit (sqlite-group-commit.ts); resolves once it is durable. */
  #write<T>(work: (onRollback: OnRollback) => T): Promise<T> {
    return this.#commit.run(work).catch((error: unknown) => {
      throw unavailable(error);
    });
  }

  #guard<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      throw unavailable(error);
    }
  }
}

/**
 * An upgrade under a live server would change the schema its prepared statements were built for
 * (an older Inlet, or this one starting against a file another process serves): refused, so the
 * file stays as it is until that server has stopped.
 */
function refuseUpgradeUnderServer(db: Database.Database, file: string, fromVersion: number): void {
  if (fromVersion < SQLITE_SERVER_ROW_VERSION) return;
  const serving = liveServer(db);
  if (serving === null) return;
  throw new InletError(
    "store-in-use",
    `The SQLite store ${file} has schema version ${fromVersion} and is served by process ${serving}: stop that server before this Inlet upgrades the file to version ${SQLITE_SCHEMA_VERSION}`,
  );
}

/**
 * The server tokens of this process. A row naming this process's pid is its own only if the token
 * is here; otherwise an earlier process with the same pid left it (PID 1 in a container, restarted).
 */
const tokensServedHere = new Set<string>();

/** The pid of the live process serving the file, or null. */
function liveServer(db: Database.Database): number | null {
  // `*`: a file not yet upgraded (checked before its upgrade) has no `process` column.
  const row = db
    .prepare<[], { pid: number; token: string; process?: string | null }>("SELECT * FROM server WHERE id = 1")
    .get();
  if (!row) return null;
  const alive =
    row.pid === process.pid
      ? tokensServedHere.has(row.token)
      : isAlive(row.pid) && !isReused(row.pid, row.process);
  return alive ? row.pid : null;
}

/**
 * The live process with this pid is not the server the row names: the pid was reused after that
 * server was killed. A row without the server's identity (an older Inlet, or no /proc) cannot tell.
 */
function isReused(pid: number, serverIdentity: string | null | undefined): boolean {
  if (!serverIdentity) return false;
  const current = processIdentity(pid);
  return current !== null && current !== serverIdentity;
}

/** A process that no longer exists left its server row behind (killed); one we may not signal is alive. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Disk full, busy, closed: the ingress answers 503 rather than guessing. Our own errors pass. */
function unavailable(error: unknown): unknown {
  if (error instanceof InletError) return error;
  return new StoreUnavailableError(`SQLite store failed: ${errorMessage(error)}`, { cause: error });
}

/** The stored records (a JSON array, or null for none) with `records` put in: each replaces its node's, or comes last. */
function withNodes(stored: string | null, records: readonly NodeRecord[]): NodeRecord[] {
  const nodes = stored === null ? [] : (JSON.parse(stored) as NodeRecord[]);
  for (const record of records) {
    const at = nodes.findIndex((node) => node.id === record.id);
    if (at === -1) nodes.push(record);
    else nodes[at] = record;
  }
  return nodes;
}

function queuedRecord(runId: string, run: AcceptedRun): RunRecord {
  return {
    runId,
    workflow: run.workflow,
    eventId: run.eventId,
    status: "queued",
    startedAt: null,
    finishedAt: null,
    error: null,
    nodes: [],
    retriedBy: null,
  };
}
