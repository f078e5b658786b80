import type Database from "better-sqlite3";
import type { IncomingEvent } from "../../src/ingest/event.js";
import { timeOrderedId } from "../../src/ids.js";
import { migrateSqlite } from "../../src/store/sqlite-schema.js";
import { makeEvent } from "./conformance.js";

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
 * Writes a version 5 file holding `count` events, each with one finished run, as an Inlet of that
 * version did (its triggers counted the finishes in a counter row); answers their run ids, oldest
 * first.
 */
export function recordFinishedRunsAsVersion5(db: Database.Database, count: number): string[] {
  migrateSqlite(db, undefined, 5);
  const runIds: string[] = [];
  for (let index = 0; index < count; index += 1) {
    const event = makeEvent();
    const runId = timeOrderedId();
    db.prepare("INSERT INTO events (event_id, json) VALUES (?, ?)").run(event.eventId, JSON.stringify(event));
    db.prepare("INSERT INTO runs (run_id, workflow, event_id, status) VALUES (?, 'wf', ?, 'queued')").run(
      runId,
      event.eventId,
    );
    db.prepare("UPDATE runs SET status = 'succeeded', finished_at = ? WHERE run_id = ?").run(
      new Date().toISOString(),
      runId,
    );
    runIds.push(runId);
  }
  db.exec("UPDATE counters SET value = (SELECT MAX(seq) FROM events) WHERE name = 'run_rows_through'");
  return runIds;
}
