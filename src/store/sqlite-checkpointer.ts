import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import type Database from "better-sqlite3";
import {
  SQLITE_AUTOCHECKPOINT_PAGES,
  SQLITE_BUSY_TIMEOUT_MS,
  SQLITE_CHECKPOINT_INTERVAL_MS,
  SQLITE_CHECKPOINT_RESTART_PAGES,
  SQLITE_CHECKPOINT_STOP_MS,
} from "../defaults.js";
import { InletError } from "../errors.js";

/**
 * The thread's whole program: its own connection, a PASSIVE checkpoint each interval (it never
 * waits for or blocks the writer), and on "stop" it closes the connection and ends. Under constant
 * writes a passive checkpoint never reaches the WAL's end, and SQLite starts the WAL over only
 * after one has; so past a size the thread tries a RESTART checkpoint. That one holds the write
 * lock while it copies what the passive one left, so writes may wait a few milliseconds (from a
 * timer, sqlite-group-commit.ts, not in SQLite's busy handler); it never waits itself (busy
 * timeout 0: a reader still on old frames, a backup say, makes it give up until the next
 * interval), and is not repeated on a WAL that has not changed since.
 * CommonJS source run with `eval`, so the same code serves the built package and the TypeScript tests.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.file, { timeout: workerData.busyTimeoutMs });
let restartedAt = -1;
const timer = setInterval(() => {
  const [{ log }] = db.pragma("wal_checkpoint(PASSIVE)");
  if (log < workerData.restartPages || log === restartedAt) return;
  db.pragma("busy_timeout = 0");
  try {
    const [{ busy }] = db.pragma("wal_checkpoint(RESTART)");
    if (busy === 0) restartedAt = log;
  } finally {
    db.pragma("busy_timeout = " + workerData.busyTimeoutMs);
  }
}, workerData.intervalMs);
parentPort.once("message", () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

const DRIVER = createRequire(import.meta.url).resolve("better-sqlite3");

/**
 * Moves WAL checkpoints off the event loop. SQLite checkpoints in the connection whose commit
 * crosses 1,000 WAL pages, and a checkpoint writes the pages back and fsyncs the database: a 5–10 ms
 * stall of every request in flight, several times a second under load, which set the accept path's
 * p99. A serving store turns that off and lets this thread checkpoint instead. If the thread fails,
 * the connection checkpoints itself again (SQLite's default) and `onError` hears why.
 */
export class SqliteCheckpointer {
  readonly #worker: Worker;
  #stopped = false;

  constructor(db: Database.Database, options: { file: string; onError?: (error: Error) => void }) {
    db.pragma("wal_autocheckpoint = 0");
    this.#worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        driver: DRIVER,
        file: options.file,
        busyTimeoutMs: SQLITE_BUSY_TIMEOUT_MS,
        intervalMs: SQLITE_CHECKPOINT_INTERVAL_MS,
        restartPages: SQLITE_CHECKPOINT_RESTART_PAGES,
      },
    });
    // The thread must not keep a process alive that has nothing else to do.
    this.#worker.unref();
    const fallBack = (reason: string): void => {
      if (this.#stopped) return;
      this.#stopped = true;
      if (db.open) db.pragma(`wal_autocheckpoint = ${SQLITE_AUTOCHECKPOINT_PAGES}`);
      options.onError?.(
        new InletError(
          "sqlite-checkpoint",
          `SQLite checkpoint thread ${reason}; checkpoints run on commit again`,
        ),
      );
    };
    this.#worker.on("error", (error) => fallBack(`failed: ${error.message}`));
    this.#worker.on("exit", (code) => fallBack(`exited with code ${code}`));
  }

  /** Ends the thread after its current checkpoint; the store closes its own connection after this. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    // Referenced again while it ends: an unreferenced thread would let the process exit mid-stop.
    this.#worker.ref();
    const exited = new Promise<void>((resolve) => this.#worker.once("exit", () => resolve()));
    this.#worker.postMessage("stop");
    const timer = setTimeout(() => void this.#worker.terminate(), SQLITE_CHECKPOINT_STOP_MS);
    await exited;
    clearTimeout(timer);
  }
}
