import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import {
  GROUP_COMMIT_DEFER_MAX_TURNS,
  GROUP_COMMIT_DEFER_MAX_WRITES,
  GROUP_COMMIT_LOAD_WRITES_PER_TURN,
} from "../../src/defaults.js";
import { SqliteGroupCommit } from "../../src/store/sqlite-group-commit.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "inlet-group-commit-"));
let counter = 0;
const open: Database.Database[] = [];

function database(): Database.Database {
  const db = new Database(path.join(dir, `g${(counter += 1)}.db`));
  db.pragma("journal_mode = WAL");
  db.exec("CREATE TABLE items (name TEXT PRIMARY KEY)");
  open.push(db);
  return db;
}

afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close();
});

const names = (db: Database.Database): string[] =>
  db.prepare<[], string>("SELECT name FROM items ORDER BY name").pluck().all();

describe("SQLite group commit", () => {
  it("commits the writes of one turn together and resolves each with its own result", async () => {
    const db = database();
    const commit = new SqliteGroupCommit(db);
    const insert = db.prepare<[string]>("INSERT INTO items (name) VALUES (?)");
    const results = await Promise.all(
      ["a", "b", "c"].map((name) => commit.run(() => Number(insert.run(name).lastInsertRowid))),
    );
    expect(results).toEqual([1, 2, 3]);
    expect(names(db)).toEqual(["a", "b", "c"]);
  });

  it("drops a transaction left open by a failed ROLLBACK, and commits the next batch", async () => {
    const db = database();
    const commit = new SqliteGroupCommit(db);
    const insert = db.prepare<[string]>("INSERT INTO items (name) VALUES (?)");
    // What a batch whose ROLLBACK failed leaves behind: its write, reported failed, still pending.
    db.exec("BEGIN IMMEDIATE");
    insert.run("reported-failed");
    await commit.run(() => insert.run("next"));
    expect(db.inTransaction).toBe(false);
    expect(names(db)).toEqual(["next"]);
  });

  it("rolls back only the write that throws, and keeps the memory changes of the others", async () => {
    const db = database();
    const commit = new SqliteGroupCommit(db);
    const insert = db.prepare<[string]>("INSERT INTO items (name) VALUES (?)");
    // The batch runs once without savepoints, then again write by write: memory must end as if each ran once.
    const held = new Map<string, number>();
    const write = (name: string, fail: boolean) =>
      commit.run((onRollback) => {
        insert.run(name);
        held.set(name, (held.get(name) ?? 0) + 1);
        onRollback(() => {
          const count = held.get(name)! - 1;
          if (count === 0) held.delete(name);
          else held.set(name, count);
        });
        if (fail) throw new Error(`refused ${name}`);
        return name;
      });
    const outcomes = await Promise.allSettled([write("a", false), write("b", true), write("c", false)]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((outcomes[1] as PromiseRejectedResult).reason).toEqual(new Error("refused b"));
    expect(names(db)).toEqual(["a", "c"]);
    expect([...held]).toEqual([
      ["a", 1],
      ["c", 1],
    ]);
  });

  it("rejects a lone write that throws with its own error and stores nothing of it", async () => {
    const db = database();
    const commit = new SqliteGroupCommit(db);
    const insert = db.prepare<[string]>("INSERT INTO items (name) VALUES (?)");
    const undone: string[] = [];
    const outcome = commit.run((onRollback) => {
      insert.run("half");
      onRollback(() => undone.push("half"));
      throw new Error("refused half");
    });
    await expect(outcome).rejects.toThrow("refused half");
    expect(names(db)).toEqual([]);
    expect(undone).toEqual(["half"]);
  });

  it("rejects every write and runs every undo when the batch cannot commit", async () => {
    const db = database();
    // Another connection holds the write lock past this one's busy timeout.
    db.pragma("busy_timeout = 50");
    const commit = new SqliteGroupCommit(db);
    const insert = db.prepare<[string]>("INSERT INTO items (name) VALUES (?)");
    const other = new Database(db.name);
    open.push(other);
    other.exec("BEGIN IMMEDIATE");
    const undone: string[] = [];
    const writes = ["a", "b"].map((name) =>
      commit.run((onRollback) => {
        insert.run(name);
        onRollback(() => undone.push(name));
      }),
    );
    const outcomes = await Promise.allSettled(writes);
    expect(outcomes.every((outcome) => outcome.status === "rejected")).toBe(true);
    other.exec("ROLLBACK");
    expect(names(db)).toEqual([]);
    expect(undone).toEqual([]);
  });

  it("undoes in reverse order when COMMIT itself fails after the writes ran", async () => {
    const db = database();
    db.exec(
      "CREATE TABLE parents (id INTEGER PRIMARY KEY); CREATE TABLE children (parent INTEGER REFERENCES parents (id) DEFERRABLE INITIALLY DEFERRED)",
    );
    db.pragma("foreign_keys = ON");
    const commit = new SqliteGroupCommit(db);
    const undone: string[] = [];
    const writes = [
      commit.run((onRollback) => {
        db.prepare("INSERT INTO items (name) VALUES ('kept?')").run();
        onRollback(() => undone.push("first"));
      }),
      // A deferred foreign key fails only at COMMIT: the whole batch is rolled back.
      commit.run((onRollback) => {
        db.prepare("INSERT INTO children (parent) VALUES (42)").run();
        onRollback(() => undone.push("second"));
      }),
    ];
    const outcomes = await Promise.allSettled(writes);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(["rejected", "rejected"]);
    expect(names(db)).toEqual([]);
    expect(undone).toEqual(["second", "first"]);
  });

  it("rejects every queued write when the connection closed before the flush", async () => {
    const db = database();
    const commit = new SqliteGroupCommit(db);
    const ran: string[] = [];
    const writes = ["a", "b"].map((name) => commit.run(() => ran.push(name)));
    db.close();
    const outcomes = await Promise.allSettled(writes);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(["rejected", "rejected"]);
    expect(ran).toEqual([]);
  });

  it("flush() commits what is queued at once", () => {
    const db = database();
    const commit = new SqliteGroupCommit(db);
    const insert = db.prepare<[string]>("INSERT INTO items (name) VALUES (?)");
    void commit.run(() => insert.run("now"));
    expect(names(db)).toEqual([]);
    commit.flush();
    expect(names(db)).toEqual(["now"]);
  });
});

/** Resolves in the next turn's check phase, after the immediates queued before it (a pending commit's). */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("SQLite group commit under load", () => {
  const LOAD = GROUP_COMMIT_LOAD_WRITES_PER_TURN;

  function setUp() {
    const db = database();
    const commit = new SqliteGroupCommit(db);
    const insert = db.prepare<[string]>("INSERT INTO items (name) VALUES (?)");
    const queue = (prefix: string, count: number) =>
      Array.from({ length: count }, (_, index) => commit.run(() => insert.run(`${prefix}${index}`)));
    return { db, commit, insert, queue };
  }

  it("commits a light turn's writes in that turn", async () => {
    const { db, queue } = setUp();
    let committed = false;
    void Promise.all(queue("light", LOAD - 1)).then(() => (committed = true));
    await nextTurn();
    expect(committed).toBe(true);
    expect(names(db)).toHaveLength(LOAD - 1);
  });

  it("lets a busy turn's batch wait for the next turn's writes, and commits them in one transaction", async () => {
    const { db, commit, insert, queue } = setUp();
    const reader = new Database(db.name, { readonly: true });
    open.push(reader);
    let committed = false;
    const busy = queue("busy", LOAD);
    void Promise.all(busy).then(() => (committed = true));
    await nextTurn();
    expect(committed).toBe(false);
    // Seen from another connection while the late write runs: the busy turn's writes are not committed apart.
    const visibleToOthers = await commit.run(() => {
      insert.run("late");
      return reader.prepare<[], number>("SELECT count(*) FROM items").pluck().get();
    });
    await Promise.all(busy);
    expect(visibleToOthers).toBe(0);
    expect(names(db)).toHaveLength(LOAD + 1);
  });

  it("commits after at most GROUP_COMMIT_DEFER_MAX_TURNS more turns however long the load lasts", async () => {
    const { queue } = setUp();
    let turn = 0;
    let committedInTurn = -1;
    void Promise.all(queue("turn0-", LOAD)).then(() => (committedInTurn = turn));
    const later: Array<Promise<unknown>> = [];
    while (committedInTurn === -1 && turn <= GROUP_COMMIT_DEFER_MAX_TURNS + 1) {
      await nextTurn();
      turn += 1;
      later.push(...queue(`turn${turn}-`, LOAD));
    }
    await Promise.all(later);
    expect(committedInTurn).toBe(GROUP_COMMIT_DEFER_MAX_TURNS);
  });

  it("flush() commits a waiting batch at once (a store closing under load loses nothing)", async () => {
    const { db, commit, queue } = setUp();
    let committed = false;
    void Promise.all(queue("waiting", LOAD)).then(() => (committed = true));
    await nextTurn();
    expect(committed).toBe(false);
    commit.flush();
    expect(names(db)).toHaveLength(LOAD);
    await nextTurn();
    expect(committed).toBe(true);
  });

  it("commits a light turn at once after a busy batch failed", async () => {
    const { db, commit } = setUp();
    const failing = Array.from({ length: LOAD }, () =>
      commit.run(() => {
        throw new Error("refused");
      }),
    );
    await Promise.allSettled(failing);
    let committed = false;
    void commit
      .run(() => db.prepare("INSERT INTO items (name) VALUES ('after')").run())
      .then(() => (committed = true));
    await nextTurn();
    expect(committed).toBe(true);
    expect(names(db)).toEqual(["after"]);
  });

  it("commits a batch of GROUP_COMMIT_DEFER_MAX_WRITES without waiting", async () => {
    const { db, queue } = setUp();
    let committed = false;
    void Promise.all(queue("full", GROUP_COMMIT_DEFER_MAX_WRITES)).then(() => (committed = true));
    await nextTurn();
    expect(committed).toBe(true);
    expect(names(db)).toHaveLength(GROUP_COMMIT_DEFER_MAX_WRITES);
  });
});

describe("SQLite group commit while another connection holds the write lock", () => {
  function setUp(busyTimeoutMs?: number) {
    const db = database();
    if (busyTimeoutMs !== undefined) db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    const waits: number[] = [];
    const commit = new SqliteGroupCommit(db, { onLockWait: (ms) => waits.push(ms) });
    const insert = db.prepare<[string]>("INSERT INTO items (name) VALUES (?)");
    // The checkpoint thread's RESTART, or another process, holding the lock.
    const other = new Database(db.name);
    open.push(other);
    other.exec("BEGIN IMMEDIATE");
    return { db, commit, insert, other, waits };
  }
  const elapse = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

  it("waits with the event loop free, then commits what was queued meanwhile, in order", async () => {
    const { db, commit, insert, other, waits } = setUp();
    let settled = false;
    const first = commit.run(() => Number(insert.run("first").lastInsertRowid));
    void first.finally(() => (settled = true));
    // A batch sleeping in SQLite's busy handler would hold this timer until the 5 s timeout failed it.
    await elapse(20);
    expect(settled).toBe(false);
    const second = commit.run(() => Number(insert.run("second").lastInsertRowid));
    await elapse(5);
    other.exec("COMMIT");
    expect(await Promise.all([first, second])).toEqual([1, 2]);
    expect(names(db)).toEqual(["first", "second"]);
    // Told as it passed, for the run throttle to count as busy time: most of the 25 ms the lock
    // was held after the write was queued (the first attempt comes a turn later).
    expect(waits.length).toBeGreaterThan(1);
    expect(waits.reduce((sum, ms) => sum + ms, 0)).toBeGreaterThan(15);
  });

  it("fails the batch with SQLite's error after the connection's busy timeout, and commits again once the lock is free", async () => {
    const { db, commit, insert, other } = setUp(30);
    await expect(commit.run(() => insert.run("refused"))).rejects.toMatchObject({ code: "SQLITE_BUSY" });
    other.exec("COMMIT");
    await commit.run(() => insert.run("after"));
    expect(names(db)).toEqual(["after"]);
    expect(db.pragma("busy_timeout", { simple: true })).toBe(30);
  });
});

describe("SQLite group commit when a write's error rolls back the whole transaction", () => {
  // SQLITE_FULL (disk full) may roll back the transaction, not only the statement; a page limit makes one here.
  it("rejects every write of the batch and stores none, instead of committing the later ones alone", async () => {
    const db = new Database(path.join(dir, "full.db"));
    db.pragma("journal_mode = WAL");
    db.exec("CREATE TABLE items (name TEXT NOT NULL, payload BLOB NOT NULL)");
    db.pragma("max_page_count = 20");
    const commit = new SqliteGroupCommit(db);
    const insert = db.prepare<[string, Buffer]>("INSERT INTO items (name, payload) VALUES (?, ?)");
    const undone: string[] = [];
    const write = (name: string, bytes: number) =>
      commit.run((onRollback) => {
        insert.run(name, Buffer.alloc(bytes));
        onRollback(() => undone.push(name));
        return name;
      });
    const outcomes = await Promise.allSettled([write("a", 10), write("too-big", 1_000_000), write("c", 10)]);
    const stored = db.prepare<[], string>("SELECT name FROM items ORDER BY name").pluck().all();
    db.close();
    // The whole transaction is gone: nothing of the batch is stored and every caller hears so.
    expect(outcomes.map((outcome) => outcome.status)).toEqual(["rejected", "rejected", "rejected"]);
    expect(stored).toEqual([]);
    // "a" ran and is undone; "c" never ran on its own, so it has nothing to undo.
    expect(undone).toEqual(["a"]);
  });
});
