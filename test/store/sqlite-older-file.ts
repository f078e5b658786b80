import type Database from "better-sqlite3";
import type { IncomingEvent } from "../../src/ingest/event.js";

/**
 * Records an event with one queued run as an Inlet before schema 5 did (a row in `runs`), then
 * marks the file as written at `version`; the upgrade tests open it with the current store.
 */
export function recordQueuedRunAsOlderInlet(
  db: Database.Database,
  run: { readonly event: IncomingEvent; readonly runId: string; readonly workflow: string },
  version: number,
): void {
  db.prepare("INSERT INTO events (event_id, json) VALUES (?, ?)").run(
    run.event.eventId,
    JSON.stringify(run.event),
  );
  db.prepare("INSERT INTO runs (run_id, workflow, event_id, status) VALUES (?, ?, ?, 'queued')").run(
    run.runId,
    run.workflow,
    run.event.eventId,
  );
  db.pragma(`user_version = ${version}`);
}

/**
 * Puts back what counted finished runs before schema 6 (the counter row, its triggers and the
 * index of finished runs), counting the file's finished runs, and marks the file as version 5.
 */
export function countFinishedRunsAsVersion5(db: Database.Database): void {
  db.exec(`
    CREATE INDEX runs_finished ON runs (seq) WHERE status IN ('succeeded', 'failed');
    INSERT INTO counters (name, value)
      SELECT 'finished_runs', COUNT(*) FROM runs WHERE status IN ('succeeded', 'failed');
    CREATE TRIGGER runs_finished_insert AFTER UPDATE OF status ON runs
    WHEN OLD.status NOT IN ('succeeded', 'failed') AND NEW.status IN ('succeeded', 'failed')
    BEGIN UPDATE counters SET value = value + 1 WHERE name = 'finished_runs'; END;
    CREATE TRIGGER runs_finished_delete AFTER DELETE ON runs
    WHEN OLD.status IN ('succeeded', 'failed')
    BEGIN UPDATE counters SET value = value - 1 WHERE name = 'finished_runs'; END;
    PRAGMA user_version = 5;
  `);
}
