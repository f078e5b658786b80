import type Database from "better-sqlite3";
import type { RunStatus } from "./store.js";

export interface RunRow {
  readonly run_id: string;
  readonly workflow: string;
  readonly event_id: string;
  readonly status: RunStatus;
  readonly started_at: string | null;
  readonly finished_at: string | null;
  readonly error: string | null;
  /** The node records, a JSON array in the order the nodes started; null for none. */
  readonly nodes: string | null;
  /** The run that retried this failed run (schema 9). */
  readonly retried_by: string | null;
}

const RUN_COLUMNS = "run_id, workflow, event_id, status, started_at, finished_at, error, nodes, retried_by";
const FINISHED = "status IN ('succeeded', 'failed')";
/** A run still held in its event row (schema 5), as a queued run row would read. */
const WAITING_RUN_COLUMNS = `run.value ->> 0 AS run_id, run.value ->> 1 AS workflow, events.event_id,
  'queued' AS status, NULL AS started_at, NULL AS finished_at, NULL AS error, NULL AS nodes,
  NULL AS retried_by`;

export type SqliteStatements = ReturnType<typeof prepareStatements>;

/** Every statement the SQLite store runs, prepared once per connection: `accept` is the hot path. */
export function prepareStatements(db: Database.Database) {
  return {
    ping: db.prepare<[], number>("SELECT 1").pluck(),
    liveKeys: db.prepare<
      [number],
      { id: number; scope: string; hash: string; first_event_id: string; expires_at: number }
    >("SELECT id, scope, hash, first_event_id, expires_at FROM dedup_keys WHERE expires_at > ?"),
    deleteExpiredKeys: db.prepare<[number]>("DELETE FROM dedup_keys WHERE expires_at <= ?"),
    insertKey: db.prepare<[string, string, string, number]>(
      "INSERT INTO dedup_keys (scope, hash, first_event_id, expires_at) VALUES (?, ?, ?, ?)",
    ),
    reclaimKey: db.prepare<[string, number, number]>(
      "UPDATE dedup_keys SET first_event_id = ?, expires_at = ? WHERE id = ?",
    ),
    touchKey: db.prepare<[number, number]>("UPDATE dedup_keys SET expires_at = ? WHERE id = ?"),
    deleteKey: db.prepare<[number]>("DELETE FROM dedup_keys WHERE id = ?"),
    claimServer: db.prepare<[number, string, string, string | null]>(
      "INSERT OR REPLACE INTO server (id, pid, token, started_at, process) VALUES (1, ?, ?, ?, ?)",
    ),
    releaseServer: db.prepare<[string]>("DELETE FROM server WHERE id = 1 AND token = ?"),
    insertEvent: db.prepare<[string, string, string]>(
      "INSERT INTO events (event_id, json, runs) VALUES (?, ?, ?)",
    ),
    selectEvent: db.prepare<[string], string>("SELECT json FROM events WHERE event_id = ?").pluck(),
    runRowsThrough: db
      .prepare<[], number>("SELECT value FROM counters WHERE name = 'run_rows_through'")
      .pluck(),
    setRunRowsThrough: db.prepare<[number]>("UPDATE counters SET value = ? WHERE name = 'run_rows_through'"),
    lastEventSeq: db.prepare<[], number | null>("SELECT MAX(seq) FROM events").pluck(),
    /** The seq of the (offset + 1)-th event after seq ?: the last of that many waiting events. */
    waitingEventAt: db
      .prepare<[number, number], number>("SELECT seq FROM events WHERE seq > ? ORDER BY seq LIMIT 1 OFFSET ?")
      .pluck(),
    // Oldest first from the first waiting event: the runner takes runs in accept order, so it stops early.
    eventOfWaitingRun: db
      .prepare<[number, string], number>(
        `SELECT events.seq FROM events, json_each(events.runs) AS run
         WHERE events.seq > ? AND run.value ->> 0 = ? ORDER BY events.seq LIMIT 1`,
      )
      .pluck(),
    insertWaitingRuns: db.prepare<[number, number]>(
      `INSERT INTO runs (run_id, workflow, event_id, status)
       SELECT run.value ->> 0, run.value ->> 1, events.event_id, 'queued'
       FROM events, json_each(events.runs) AS run
       WHERE events.seq > ? AND events.seq <= ? ORDER BY events.seq, run.key`,
    ),
    selectWaitingRun: db.prepare<[number, string], RunRow>(
      `SELECT ${WAITING_RUN_COLUMNS} FROM events, json_each(events.runs) AS run
       WHERE events.seq > ? AND run.value ->> 0 = ? LIMIT 1`,
    ),
    listWaiting: db.prepare<[{ through: number; workflow: string | null; limit: number }], RunRow>(
      `SELECT ${WAITING_RUN_COLUMNS} FROM events, json_each(events.runs) AS run
       WHERE events.seq > @through AND (@workflow IS NULL OR run.value ->> 1 = @workflow)
       ORDER BY events.seq DESC, run.key DESC LIMIT @limit`,
    ),
    insertRun: db.prepare<[string, string, string]>(
      "INSERT INTO runs (run_id, workflow, event_id, status) VALUES (?, ?, ?, 'queued')",
    ),
    runStatus: db.prepare<[string], RunStatus>("SELECT status FROM runs WHERE run_id = ?").pluck(),
    // started_at: a run started by this process was marked running in memory only (sqlite-store.ts).
    finishRun: db.prepare<[string, string | null, string, string | null, string]>(
      "UPDATE runs SET status = ?, started_at = COALESCE(started_at, ?), finished_at = ?, error = ? WHERE run_id = ?",
    ),
    selectRun: db.prepare<[string], RunRow>(`SELECT ${RUN_COLUMNS} FROM runs WHERE run_id = ?`),
    /** A run row's node records; no row, no result. */
    selectNodes: db.prepare<[string], { nodes: string | null }>("SELECT nodes FROM runs WHERE run_id = ?"),
    setNodes: db.prepare<[string, string]>("UPDATE runs SET nodes = ? WHERE run_id = ?"),
    setRetriedBy: db.prepare<[string, string]>("UPDATE runs SET retried_by = ? WHERE run_id = ?"),
    listUnfinished: db.prepare<[number], RunRow>(
      `SELECT ${RUN_COLUMNS} FROM runs WHERE status IN ('queued', 'running') ORDER BY seq LIMIT ?`,
    ),
    listAll: db.prepare<[number], RunRow>(`SELECT ${RUN_COLUMNS} FROM runs ORDER BY seq DESC LIMIT ?`),
    listByWorkflow: db.prepare<[string, number], RunRow>(
      `SELECT ${RUN_COLUMNS} FROM runs WHERE workflow = ? ORDER BY seq DESC LIMIT ?`,
    ),
    listByStatus: db.prepare<[string, number], RunRow>(
      `SELECT ${RUN_COLUMNS} FROM runs WHERE status = ? ORDER BY seq DESC LIMIT ?`,
    ),
    listByBoth: db.prepare<[string, string, number], RunRow>(
      `SELECT ${RUN_COLUMNS} FROM runs WHERE workflow = ? AND status = ? ORDER BY seq DESC LIMIT ?`,
    ),
    finishedCount: db.prepare<[], number>(`SELECT COUNT(*) FROM runs WHERE ${FINISHED}`).pluck(),
    // In seq order from the oldest: finished runs are nearly all of the oldest, so it reads few others.
    oldestFinished: db.prepare<[number], { run_id: string; event_id: string }>(
      `SELECT run_id, event_id FROM runs WHERE ${FINISHED} ORDER BY seq LIMIT ?`,
    ),
    deleteRun: db.prepare<[string]>("DELETE FROM runs WHERE run_id = ?"),
    // Never the newest event: its seq would be given again (schema 8).
    deleteUnreferencedEvent: db.prepare<[string, string]>(
      `DELETE FROM events WHERE event_id = ? AND NOT EXISTS (SELECT 1 FROM runs WHERE event_id = ?)
       AND seq < (SELECT MAX(seq) FROM events)`,
    ),
    // Events of no kept run older than every kept run; never one whose runs still wait in it, nor the
    // newest. One bound (MIN): given several, the planner bounded its scan by the loosest, and read
    // every waiting event.
    deleteOrphanEvents: db.prepare<[]>(
      `DELETE FROM events
       WHERE seq < MIN(
         COALESCE(
           (SELECT seq FROM events WHERE event_id = (SELECT event_id FROM runs ORDER BY seq LIMIT 1)),
           (SELECT MAX(seq) FROM events)),
         (SELECT value FROM counters WHERE name = 'run_rows_through') + 1)
       AND NOT EXISTS (SELECT 1 FROM runs WHERE runs.event_id = events.event_id)`,
    ),
    insertSample: db.prepare<[string, string]>("INSERT INTO samples (integration, json) VALUES (?, ?)"),
    trimSamples: db.prepare<[string, string, number]>(
      `DELETE FROM samples WHERE integration = ? AND seq <=
         (SELECT seq FROM samples WHERE integration = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)`,
    ),
    deleteSamples: db.prepare<[string]>("DELETE FROM samples WHERE integration = ?"),
    // The integrations kept come as one JSON array: a start may list thousands.
    deleteUnlistedSamples: db.prepare<[string]>(
      "DELETE FROM samples WHERE integration NOT IN (SELECT value FROM json_each(?))",
    ),
    listSamples: db
      .prepare<[string], string>("SELECT json FROM samples WHERE integration = ? ORDER BY seq DESC")
      .pluck(),
    selectSecret: db.prepare<[string], string>("SELECT value FROM secrets WHERE name = ?").pluck(),
    insertSecret: db.prepare<[string, string]>(
      "INSERT INTO secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
    ),
  };
}
