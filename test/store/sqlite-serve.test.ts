import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { processIdentity } from "../../src/store/process-identity.js";
import { migrateSqlite, SQLITE_SCHEMA_VERSION } from "../../src/store/sqlite-schema.js";
import { SqliteStore } from "../../src/store/sqlite-store.js";
import { makeEvent, testHash } from "./conformance.js";
import { recordQueuedRunAsOlderInlet } from "./sqlite-older-file.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "inlet-sqlite-serve-"));
let counter = 0;
const nextFile = (): string => path.join(dir, `s${(counter += 1)}.db`);
const stores: SqliteStore[] = [];
const children: ChildProcess[] = [];

function open(file: string, serve: boolean): SqliteStore {
  const store = new SqliteStore(file, { serve });
  stores.push(store);
  return store;
}

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  for (const child of children.splice(0)) child.kill("SIGKILL");
});

const key = (label: string, ttlMs = 60_000) => ({ scope: "shop-cart", hash: testHash(label), ttlMs });

/**
 * A file served once and closed, whose server row now names `pid`, as a killed or another process
 * leaves it; `identity` is the serving process's (none, as an older Inlet wrote the row, by default).
 */
async function fileServedBy(pid: number, token: string, identity: string | null = null): Promise<string> {
  const file = nextFile();
  await open(file, true).close();
  const raw = new Database(file);
  raw
    .prepare("INSERT OR REPLACE INTO server (id, pid, token, started_at, process) VALUES (1, ?, ?, 'x', ?)")
    .run(pid, token, identity);
  raw.close();
  return file;
}

/** A live process other than this one, started now; killed after the test. */
function liveProcess(): ChildProcess {
  const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60_000)"], { stdio: "ignore" });
  children.push(child);
  return child;
}

describe("the SQLite store's server", () => {
  it("refuses a second server on the same file, naming the file and the serving process", () => {
    const file = nextFile();
    open(file, true);
    expect(() => new SqliteStore(file, { serve: true })).toThrow(
      expect.objectContaining({ code: "store-in-use", message: expect.stringContaining(file) as unknown }),
    );
  });

  it("lets a new server in once the first has closed", async () => {
    const file = nextFile();
    const first = open(file, true);
    await first.close();
    expect(() => open(file, true)).not.toThrow();
  });

  it("takes over the file from a server that was killed", async () => {
    const file = await fileServedBy(999_999_999, "gone");
    expect(() => open(file, true)).not.toThrow();
  });

  it.runIf(process.platform === "linux")(
    "takes over the file from a killed server whose pid a later process now has, and not from a live server",
    async () => {
      // The row names a process that started at another tick, as the killed server did.
      const reused = liveProcess().pid!;
      const killed = processIdentity(reused)!.replace(/:\d+$/, ":1");
      const stale = await fileServedBy(reused, "killed long ago", killed);
      expect(() => open(stale, true)).not.toThrow();

      const serving = liveProcess().pid!;
      const file = await fileServedBy(serving, "serving", processIdentity(serving));
      expect(() => open(file, true)).toThrow(
        expect.objectContaining({
          code: "store-in-use",
          message: expect.stringContaining(String(serving)) as unknown,
        }),
      );
    },
  );

  it("takes over the file from an earlier process that had this very pid (PID 1 in a restarted container)", async () => {
    const file = await fileServedBy(process.pid, "earlier");
    expect(() => open(file, true)).not.toThrow();
  });

  it("does not upgrade a file an older server still serves, and upgrades it once that server is gone", async () => {
    // A live process (this test's parent) serves the file, at version 2 as an older Inlet left it.
    const file = nextFile();
    const raw = new Database(file);
    migrateSqlite(raw, undefined, 2);
    raw
      .prepare("INSERT INTO server (id, pid, token, started_at) VALUES (1, ?, 'older', 'x')")
      .run(process.ppid);
    const refused = expect.objectContaining({
      code: "store-in-use",
      message: expect.stringContaining(
        `schema version 2 and is served by process ${process.ppid}`,
      ) as unknown,
    });
    expect(() => new SqliteStore(file, { serve: false })).toThrow(refused);
    expect(() => new SqliteStore(file, { serve: true })).toThrow(refused);
    expect(raw.pragma("user_version", { simple: true })).toBe(2);
    raw.prepare("UPDATE server SET pid = 999999999").run();
    raw.close();
    await open(file, false).close();
    const upgraded = new Database(file);
    expect(upgraded.pragma("user_version", { simple: true })).toBe(SQLITE_SCHEMA_VERSION);
    upgraded.close();
  });

  it("lets a command read the file while a server holds it (inlet token)", async () => {
    const file = nextFile();
    const server = open(file, true);
    const secret = await server.getOrCreateSecret("jwt-signing-secret", () => "s3cret");
    const command = open(file, false);
    expect(await command.getOrCreateSecret("jwt-signing-secret", () => "other")).toBe(secret);
  });
});

describe("the SQLite store's checkpoints", () => {
  const fileSize = (file: string): number => fs.statSync(file).size;

  async function untilGrows(file: string, from: number): Promise<number> {
    for (let waited = 0; waited < 10_000; waited += 50) {
      if (fileSize(file) > from) return fileSize(file);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return fileSize(file);
  }

  it("copies committed writes into the database file from its own thread, with no commit checkpointing", async () => {
    const file = nextFile();
    const server = open(file, true);
    const before = fileSize(file);
    // Far below SQLite's own 1,000-page checkpoint: only the checkpoint thread moves these pages.
    await Promise.all(
      Array.from({ length: 200 }, (_, index) =>
        server.accept({ event: makeEvent(), dedup: key(`order-${index}`), workflows: ["wf"] }),
      ),
    );
    expect(await untilGrows(file, before)).toBeGreaterThan(before);
  });

  it("closes once when asked twice at the same time, and leaves no WAL behind", async () => {
    const file = nextFile();
    const server = open(file, true);
    await server.accept({ event: makeEvent(), dedup: key("order"), workflows: ["wf"] });
    await expect(Promise.all([server.close(), server.close()])).resolves.toEqual([undefined, undefined]);
    expect(fs.existsSync(`${file}-wal`)).toBe(false);
  });

  it("leaves no WAL behind once the server has closed", async () => {
    const file = nextFile();
    const server = open(file, true);
    await server.accept({ event: makeEvent(), dedup: key("order"), workflows: ["wf"] });
    await server.close();
    expect(fs.existsSync(`${file}-wal`)).toBe(false);
  });
});

/** The schema of a database written by the first release (user_version 1). */
const VERSION_1_SCHEMA = `
      CREATE TABLE dedup_keys (
        scope TEXT NOT NULL, hash TEXT NOT NULL, first_event_id TEXT NOT NULL, expires_at INTEGER NOT NULL,
        PRIMARY KEY (scope, hash)
      ) WITHOUT ROWID;
      CREATE INDEX dedup_keys_expires_at ON dedup_keys (expires_at);
      CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE, json TEXT NOT NULL);
      CREATE TABLE runs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL UNIQUE, workflow TEXT NOT NULL,
        event_id TEXT NOT NULL, status TEXT NOT NULL, started_at TEXT, finished_at TEXT, error TEXT
      );
      CREATE INDEX runs_event_id ON runs (event_id);
      CREATE INDEX runs_workflow ON runs (workflow, seq);
      CREATE INDEX runs_status ON runs (status, seq);
      CREATE INDEX runs_finished ON runs (seq) WHERE status IN ('succeeded', 'failed');
      CREATE INDEX runs_unfinished ON runs (seq) WHERE status IN ('queued', 'running');
      CREATE TABLE run_nodes (seq INTEGER PRIMARY KEY, run_id TEXT NOT NULL, node_id TEXT NOT NULL, json TEXT NOT NULL, UNIQUE (run_id, node_id));
      CREATE TABLE samples (seq INTEGER PRIMARY KEY AUTOINCREMENT, integration TEXT NOT NULL, json TEXT NOT NULL);
      CREATE INDEX samples_integration ON samples (integration, seq);
      CREATE TABLE secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
      INSERT INTO counters (name, value) VALUES ('finished_runs', 0);
`;

describe("the SQLite store's dedup keys across restarts", () => {
  it("answers a key claimed before a restart as a duplicate of the first event", async () => {
    const file = nextFile();
    const before = open(file, true);
    const first = makeEvent();
    await before.accept({ event: first, dedup: key("order-1"), workflows: [] });
    await before.close();
    const after = open(file, true);
    expect(await after.accept({ event: makeEvent(), dedup: key("order-1"), workflows: [] })).toEqual({
      outcome: "duplicate",
      firstEventId: first.eventId,
    });
  });

  it("forgets a key that expired while the process was down, and deletes its row", async () => {
    const file = nextFile();
    const before = open(file, true);
    await before.accept({ event: makeEvent(), dedup: key("short", 20), workflows: [] });
    await before.close();
    await new Promise((resolve) => setTimeout(resolve, 40));
    const after = open(file, true);
    const raw = new Database(file, { readonly: true });
    const rows = raw.prepare("SELECT COUNT(*) FROM dedup_keys").pluck().get();
    raw.close();
    expect(rows).toBe(0);
    expect((await after.accept({ event: makeEvent(), dedup: key("short"), workflows: [] })).outcome).toBe(
      "accepted",
    );
  });

  it("keeps the live keys of a version 1 database when it upgrades", async () => {
    const file = nextFile();
    const v1 = new Database(file);
    v1.exec(VERSION_1_SCHEMA);
    const live = "0193a0b2-0000-7000-8000-000000000001";
    v1.prepare("INSERT INTO dedup_keys VALUES (?, ?, ?, ?)").run(
      "shop-cart",
      testHash("live"),
      live,
      Date.now() + 60_000,
    );
    v1.prepare("INSERT INTO dedup_keys VALUES (?, ?, ?, ?)").run(
      "shop-cart",
      testHash("expired"),
      "0193a0b2-0000-7000-8000-000000000002",
      Date.now() - 1,
    );
    v1.pragma("user_version = 1");
    v1.close();

    const upgraded = open(file, true);
    expect(await upgraded.accept({ event: makeEvent(), dedup: key("live"), workflows: [] })).toEqual({
      outcome: "duplicate",
      firstEventId: live,
    });
    expect(
      (await upgraded.accept({ event: makeEvent(), dedup: key("expired"), workflows: [] })).outcome,
    ).toBe("accepted");
  });

  it("keeps the recorded events of queued runs when it upgrades, so they still run and can be retried", async () => {
    const file = nextFile();
    const v1 = new Database(file);
    v1.exec(VERSION_1_SCHEMA);
    const event = makeEvent();
    recordQueuedRunAsOlderInlet(
      v1,
      { event, runId: "0193a0b2-0000-7000-8000-000000000003", workflow: "wf" },
      1,
    );
    v1.close();

    const upgraded = open(file, true);
    expect(await upgraded.listUnfinishedRuns()).toEqual([
      { runId: "0193a0b2-0000-7000-8000-000000000003", workflow: "wf", eventId: event.eventId },
    ]);
    expect(await upgraded.getEvent(event.eventId)).toEqual(event);
    await upgraded.finishRun("0193a0b2-0000-7000-8000-000000000003", {
      status: "failed",
      finishedAt: new Date().toISOString(),
      error: "boom",
    });
    expect(await upgraded.retryRun("0193a0b2-0000-7000-8000-000000000003")).toMatchObject({
      outcome: "created",
      run: { workflow: "wf", eventId: event.eventId },
    });
  });
});
