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
