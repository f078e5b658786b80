import type Database from "better-sqlite3";
import { InletError } from "../errors.js";

/**
 * Migrations by target `PRAGMA user_version`; index 0 brings an empty file to version 1. A later
 * change appends a step, so an existing database is upgraded in place.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE dedup_keys (
    scope TEXT NOT NULL,
    hash TEXT NOT NULL,
    first_event_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (scope, hash)
  ) WITHOUT ROWID;
  CREATE INDEX dedup_keys_expires_at ON dedup_keys (expires_at);

  CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    json TEXT NOT NULL
  );

  CREATE TABLE runs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL UNIQUE,
    workflow TEXT NOT NULL,
    event_id TEXT NOT NULL,
    status TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    error TEXT
  );
  CREATE INDEX runs_event_id ON runs (event_id);
  CREATE INDEX runs_workflow ON runs (workflow, seq);
  CREATE INDEX runs_status ON runs (status, seq);
  CREATE INDEX runs_finished ON runs (seq) WHERE status IN ('succeeded', 'failed');
  CREATE INDEX runs_unfinished ON runs (seq) WHERE status IN ('queued', 'running');

  CREATE TABLE run_nodes (
    seq INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL,
    node_id TEXT NOT NULL,
    json TEXT NOT NULL,
    UNIQUE (run_id, node_id)
  );

  CREATE TABLE samples (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    integration TEXT NOT NULL,
    json TEXT NOT NULL
  );
  CREATE INDEX samples_integration ON samples (integration, seq);

  CREATE TABLE secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL);

  -- Counting finished runs in triggers keeps the history check O(1) on every finish.
  CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
  INSERT INTO counters (name, value) VALUES ('finished_runs', 0);
  CREATE TRIGGER runs_finished_insert AFTER UPDATE OF status ON runs
  WHEN OLD.status NOT IN ('succeeded', 'failed') AND NEW.status IN ('succeeded', 'failed')
  BEGIN UPDATE counters SET value = value + 1 WHERE name = 'finished_runs'; END;
  CREATE TRIGGER runs_finished_delete AFTER DELETE ON runs
  WHEN OLD.status IN ('succeeded', 'failed')
  BEGIN UPDATE counters SET value = value - 1 WHERE name = 'finished_runs'; END;
  `,
  // 2: dedup keys become an append-only log looked up in memory (dedup/key-index.ts). A B-tree
  // keyed by random hashes dirtied one random page per new key (~25 µs a request); rows in
  // arrival order share pages. The server row names the one process that owns the keys.
  `
  CREATE TABLE dedup_keys_log (
    id INTEGER PRIMARY KEY,
    scope TEXT NOT NULL,
    hash TEXT NOT NULL,
    first_event_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  );
  INSERT INTO dedup_keys_log (scope, hash, first_event_id, expires_at)
    SELECT scope, hash, first_event_id, expires_at FROM dedup_keys ORDER BY expires_at;
  DROP TABLE dedup_keys;
  ALTER TABLE dedup_keys_log RENAME TO dedup_keys;

  CREATE TABLE server (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    pid INTEGER NOT NULL,
    token TEXT NOT NULL,
    started_at TEXT NOT NULL
  );
  `,
  // 3: every index is maintained on each of a run's four writes; these two served only the admin
  // list filters, which read runs newest first from the table itself and stop at their limit.
  `
  DROP INDEX runs_workflow;
  DROP INDEX runs_status;
  `,
  // 4: the server row names its process by boot and start (process-identity.ts), so a live process
  // that got a killed server's pid is told apart from that server.
  `
  ALTER TABLE server ADD COLUMN process TEXT;
  `,
  // 5: an accepted event holds its queued runs (`[[runId, workflow], …]`) instead of a row each:
  // a run row and its indexes were two fifths of the accept's disk writes. Runs become rows when
  // first needed, in event order (sqlite-store.ts); every event up to `run_rows_through` has them.
  `
  ALTER TABLE events ADD COLUMN runs TEXT;
  INSERT INTO counters (name, value) VALUES ('run_rows_through', COALESCE((SELECT MAX(seq) FROM events), 0));
  `,
  // 6: the serving process counts finished runs in memory (sqlite-store.ts), and pruning reads the
  // oldest runs in seq order: the counter row and the index of finished runs were two more pages
  // that every run's finish appended to the WAL (~10 µs each, half the finish's commit).
  `
  DROP TRIGGER IF EXISTS runs_finished_insert;
  DROP TRIGGER IF EXISTS runs_finished_delete;
  DROP INDEX IF EXISTS runs_finished;
  DELETE FROM counters WHERE name = 'finished_runs';
  `,
  // 7: a run's node records live in its row (a JSON array, in the order the nodes started) instead
  // of a table of their own with a unique index; the run table's seq is no longer AUTOINCREMENT
  // (nothing compares it with a deleted run's), and the index of unfinished runs is gone (listing
  // them reads the runs in seq order, which a restart and a drained backlog do, not a request).
  // Those were four of the eight pages a run's finish appended to the WAL.
  `
  CREATE TABLE runs_with_nodes (
    seq INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL UNIQUE,
    workflow TEXT NOT NULL,
    event_id TEXT NOT NULL,
    status TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    error TEXT,
    nodes TEXT
  );
  INSERT INTO runs_with_nodes (seq, run_id, workflow, event_id, status, started_at, finished_at, error, nodes)
    SELECT seq, run_id, workflow, event_id, status, started_at, finished_at, error,
      (SELECT json_group_array(json(run_nodes.json) ORDER BY run_nodes.seq) FROM run_nodes
       WHERE run_nodes.run_id = runs.run_id HAVING COUNT(*) > 0)
    FROM runs ORDER BY seq;
  DROP TABLE runs;
  DROP TABLE run_nodes;
  ALTER TABLE runs_with_nodes RENAME TO runs;
  CREATE INDEX runs_event_id ON runs (event_id);
  DELETE FROM sqlite_sequence WHERE name = 'runs';
  `,
  // 8: nor is the event table's: its row in sqlite_sequence was one more page every accept
  // appended to the WAL. An event's seq must still never be reused (every event up to
  // run_rows_through has its runs as rows), so the newest event is never deleted, and the
  // counter is lowered to the newest event left (the events after it are gone).
  `
  CREATE TABLE events_by_seq (
    seq INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    json TEXT NOT NULL,
    runs TEXT
  );
  INSERT INTO events_by_seq (seq, event_id, json, runs) SELECT seq, event_id, json, runs FROM events ORDER BY seq;
  DROP TABLE events;
  ALTER TABLE events_by_seq RENAME TO events;
  DELETE FROM sqlite_sequence WHERE name = 'events';
  UPDATE counters SET value = MIN(value, COALESCE((SELECT MAX(seq) FROM events), 0))
    WHERE name = 'run_rows_through';
  `,
  // 9: a failed run names the run that retried it, so a second retry (a double click, a script
  // retrying on a timeout) is refused rather than sending the request again. The mark is in the
  // run's own row, so it survives a restart and is pruned with the run.
  `
  ALTER TABLE runs ADD COLUMN retried_by TEXT;
  `,
];

export const SQLITE_SCHEMA_VERSION = MIGRATIONS.length;

/** The first version with the `server` row, which names the process serving the file. */
export const SQLITE_SERVER_ROW_VERSION = 2;

/**
 * Brings the database to the current schema (the tests' older files: to `toVersion`); refuses a
 * file written by a newer Inlet. `beforeUpgrade` runs in the same transaction when an upgrade is
 * due, and refuses it by throwing.
 */
export function migrateSqlite(
  db: Database.Database,
  beforeUpgrade?: (fromVersion: number) => void,
  toVersion: number = SQLITE_SCHEMA_VERSION,
): void {
  db.transaction(() => {
    const current = db.pragma("user_version", { simple: true }) as number;
    if (current > SQLITE_SCHEMA_VERSION) {
      throw new InletError(
        "store-schema",
        `The SQLite database has schema version ${current}, newer than this Inlet understands (${SQLITE_SCHEMA_VERSION})`,
      );
    }
    if (current < toVersion) beforeUpgrade?.(current);
    for (let version = current; version < toVersion; version++) {
      db.exec(MIGRATIONS[version] ?? "");
    }
    db.pragma(`user_version = ${Math.max(current, toVersion)}`);
  }).immediate();
}
