import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { SqliteStore } from "../../src/store/sqlite-store.js";
import type { RunRef } from "../../src/store/store.js";
import { makeEvent, makeNode } from "./conformance.js";
import { recordFinishedRunsAsVersion5, recordQueuedRunAsOlderInlet } from "./sqlite-older-file.js";
import { migrateSqlite } from "../../src/store/sqlite-schema.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "inlet-sqlite-waiting-"));
let counter = 0;
const nextFile = (): string => path.join(dir, `w${(counter += 1)}.db`);
const stores: SqliteStore[] = [];

/** `serve`: the store also answers from its memory of the runs it accepted. */
function open(file: string, runHistoryLimit?: number, serve = false): SqliteStore {
  const store = new SqliteStore(file, { tuning: { runHistoryLimit }, serve });
  stores.push(store);
  return store;
}

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

async function accept(store: SqliteStore, workflows: string[]): Promise<RunRef[]> {
  const outcome = await store.accept({ event: makeEvent(), dedup: null, workflows });
  if (outcome.outcome !== "accepted") throw new Error("expected an accepted event");
  return [...outcome.runs];
}

/** Run rows in the file, read from a connection of its own. */
function runRows(file: string): number {
  const raw = new Database(file, { readonly: true });
  try {
    return raw.prepare<[], number>("SELECT COUNT(*) FROM runs").pluck().get() ?? 0;
  } finally {
    raw.close();
  }
}

const finished = { status: "succeeded", finishedAt: "2024-01-01T00:01:00.000Z", error: null } as const;
const failedRun = { status: "failed", finishedAt: "2024-01-01T00:01:00.000Z", error: "boom" } as const;

async function retried(store: SqliteStore, failedRunId: string): Promise<RunRef> {
  const outcome = await store.retryRun(failedRunId);
  if (outcome.outcome !== "created") throw new Error(`expected a retry, got ${outcome.outcome}`);
  return outcome.run;
}

describe("runs waiting in their event's row (SQLite)", () => {
  it("writes no run row at accept, and shows the waiting runs as queued to every reader", async () => {
    const file = nextFile();
    const store = open(file);
    const [a1, b1] = await accept(store, ["wf-a", "wf-b"]);
    const [a2] = await accept(store, ["wf-a"]);
    if (!a1 || !b1 || !a2) throw new Error("expected three runs");

    expect(runRows(file)).toBe(0);
    expect(await store.getRun(b1.runId)).toEqual({
      ...b1,
      status: "queued",
      startedAt: null,
      finishedAt: null,
      error: null,
      nodes: [],
      retriedBy: null,
    });
    const listed = async (query: Parameters<SqliteStore["listRuns"]>[0]) =>
      (await store.listRuns(query)).map((run) => run.runId);
    expect(await listed({ limit: 50 })).toEqual([a2.runId, b1.runId, a1.runId]);
    expect(await listed({ workflow: "wf-b", limit: 50 })).toEqual([b1.runId]);
    expect(await listed({ status: "running", limit: 50 })).toEqual([]);
    expect(runRows(file)).toBe(0);
  });

  it("makes rows of every run accepted before the one whose first node is recorded, and keeps their order", async () => {
    const file = nextFile();
    const store = open(file);
    const [r1] = await accept(store, ["wf"]);
    const [r2, r3] = await accept(store, ["wf", "other"]);
    const [r4] = await accept(store, ["wf"]);
    if (!r1 || !r2 || !r3 || !r4) throw new Error("expected four runs");

    expect(await store.startRun(r3.runId, "2024-01-01T00:00:00.000Z")).toMatchObject({ status: "running" });
    expect(runRows(file)).toBe(0);
    await store.recordNode(r3.runId, makeNode("send", { status: "succeeded", durationMs: 3 }));
    expect(runRows(file)).toBe(3);
    expect((await store.listRuns({ limit: 50 })).map((run) => [run.runId, run.status])).toEqual([
      [r4.runId, "queued"],
      [r3.runId, "running"],
      [r2.runId, "queued"],
      [r1.runId, "queued"],
    ]);
    expect(await store.listUnfinishedRuns(2)).toEqual([r1, r2]);
    expect(await store.listUnfinishedRuns()).toEqual([r1, r2, r3, r4]);
  });

  it("resumes waiting runs from another connection, as the next process after a kill would", async () => {
    const file = nextFile();
    const killed = open(file);
    const runs = [...(await accept(killed, ["wf"])), ...(await accept(killed, ["wf", "other"]))];

    const next = open(file);
    expect(await next.listUnfinishedRuns()).toEqual(runs);
  });

  it("never prunes an event whose runs still wait in it", async () => {
    const file = nextFile();
    const store = open(file, 0);
    const [pruned] = await accept(store, ["wf"]);
    const event = makeEvent();
    const outcome = await store.accept({ event, dedup: null, workflows: ["wf"] });
    if (!pruned || outcome.outcome !== "accepted") throw new Error("expected two runs");

    // Keeping no history, the finish prunes every run row: only the waiting run is left.
    await store.finishRun(pruned.runId, finished);
    expect(await store.getRun(pruned.runId)).toBeUndefined();
    expect(await store.getEvent(event.eventId)).toEqual(event);
    expect(await store.listUnfinishedRuns()).toEqual(outcome.runs);
  });

  it("lists a retry after the runs that waited when it was made", async () => {
    const store = open(nextFile());
    const [failed] = await accept(store, ["wf"]);
    // The failed run's finish makes rows of the runs up to its own only: the next one still waits.
    await store.finishRun(failed!.runId, failedRun);
    const [waiting] = await accept(store, ["wf"]);
    const retry = await retried(store, failed!.runId);
    expect((await store.listUnfinishedRuns()).map((run) => run.runId)).toEqual([waiting?.runId, retry.runId]);
  });

  it("moves a version 6 file's node records into their runs, in the order they started, when it upgrades", async () => {
    const file = nextFile();
    const v6 = new Database(file);
    migrateSqlite(v6, undefined, 6);
    const event = makeEvent();
    v6.prepare("INSERT INTO events (event_id, json) VALUES (?, ?)").run(event.eventId, JSON.stringify(event));
    const insertRun = v6.prepare(
      "INSERT INTO runs (run_id, workflow, event_id, status) VALUES (?, 'wf', ?, ?)",
    );
    insertRun.run("run-with-nodes", event.eventId, "succeeded");
    insertRun.run("run-without", event.eventId, "queued");
    const later = makeNode("a-later", { status: "succeeded", durationMs: 2 });
    const earlier = makeNode("z-earlier", { status: "succeeded", durationMs: 1 });
    const insertNode = v6.prepare("INSERT INTO run_nodes (run_id, node_id, json) VALUES (?, ?, ?)");
    insertNode.run("run-with-nodes", earlier.id, JSON.stringify(earlier));
    insertNode.run("run-with-nodes", later.id, JSON.stringify(later));
    v6.exec("UPDATE counters SET value = (SELECT MAX(seq) FROM events) WHERE name = 'run_rows_through'");
    v6.close();

    const upgraded = open(file);
    expect((await upgraded.getRun("run-with-nodes"))?.nodes).toEqual([earlier, later]);
    expect((await upgraded.getRun("run-without"))?.nodes).toEqual([]);
    expect(await upgraded.listUnfinishedRuns()).toEqual([
      { runId: "run-without", workflow: "wf", eventId: event.eventId },
    ]);
  });

  it("keeps the newest event even when its runs are pruned, so its seq is never given to the next", async () => {
    const store = open(nextFile(), 1);
    const [first] = await accept(store, ["wf"]);
    await store.finishRun(first!.runId, failedRun);
    const [newest] = await accept(store, ["wf"]);
    // The retry makes rows of every waiting run: the newest event's run is now older than it.
    const retry = await retried(store, first!.runId);
    for (const run of [newest!, retry]) await store.finishRun(run.runId, finished);
    expect(await store.getRun(newest!.runId)).toBeUndefined();

    const [next] = await accept(store, ["wf"]);
    expect(await store.listUnfinishedRuns()).toEqual([next]);
  });

  it("upgrades a version 7 file whose newest events were deleted without giving their seq to runs that wait", async () => {
    const file = nextFile();
    const v7 = new Database(file);
    migrateSqlite(v7, undefined, 7);
    const insertEvent = v7.prepare("INSERT INTO events (event_id, json) VALUES (?, ?)");
    for (const event of [makeEvent(), makeEvent(), makeEvent()])
      insertEvent.run(event.eventId, JSON.stringify(event));
    // An older Inlet made the runs of all three rows, and pruned the newest two with their events.
    v7.exec(
      `UPDATE counters SET value = 3 WHERE name = 'run_rows_through'; DELETE FROM events WHERE seq > 1`,
    );
    v7.close();

    const upgraded = open(file);
    const [next] = await accept(upgraded, ["wf"]);
    expect(await upgraded.listUnfinishedRuns()).toEqual([next]);
  });

  it("takes over the queued runs of a version 4 file once, without making them rows twice", async () => {
    const file = nextFile();
    const event = makeEvent();
    const v4 = new Database(file);
    migrateSqlite(v4, undefined, 4);
    recordQueuedRunAsOlderInlet(
      v4,
      { event, runId: "0193a0b2-0000-7000-8000-000000000004", workflow: "wf" },
      4,
    );
    v4.close();

    const upgraded = open(file);
    const [fresh] = await accept(upgraded, ["wf"]);
    expect(await upgraded.listUnfinishedRuns()).toEqual([
      { runId: "0193a0b2-0000-7000-8000-000000000004", workflow: "wf", eventId: event.eventId },
      fresh,
    ]);
    expect(runRows(file)).toBe(2);
    // The upgrade counted the version 4 event as one whose runs are rows, so it can be pruned.
    const raw = new Database(file, { readonly: true });
    const through = raw.prepare("SELECT value FROM counters WHERE name = 'run_rows_through'").pluck().get();
    const v4Seq = raw.prepare("SELECT seq FROM events WHERE event_id = ?").pluck().get(event.eventId);
    raw.close();
    expect(through).toBeGreaterThanOrEqual(v4Seq as number);
  });
});

/** The run's node records in the file, in its order, read from a connection of its own. */
function fileNodes(file: string, runId: string): Array<[string, string]> {
  const raw = new Database(file, { readonly: true });
  try {
    const nodes = raw
      .prepare<[string], string | null>("SELECT nodes FROM runs WHERE run_id = ?")
      .pluck()
      .get(runId);
    return (JSON.parse(nodes ?? "[]") as Array<{ id: string; status: string }>).map((node) => [
      node.id,
      node.status,
    ]);
  } finally {
    raw.close();
  }
}

describe("runs started by the process that serves the file (SQLite)", () => {
  const startedAt = "2024-01-01T00:00:00.000Z";

  /** Accepts an event with one run and starts that run, as the runner would. */
  async function startOne(store: SqliteStore): Promise<RunRef> {
    const [run] = await accept(store, ["wf"]);
    if (!run) throw new Error("expected a run");
    await store.startRun(run.runId, startedAt);
    return run;
  }

  it("keeps a started run and its running node in memory: the file says queued, and the next process resumes it", async () => {
    const file = nextFile();
    const store = open(file);
    const run = await startOne(store);
    await store.recordNode(run.runId, makeNode("send"));

    expect(await store.getRun(run.runId)).toMatchObject({
      status: "running",
      startedAt,
      nodes: [makeNode("send")],
    });
    expect((await store.listRuns({ status: "running", limit: 50 })).map((listed) => listed.runId)).toEqual([
      run.runId,
    ]);
    expect(await store.listRuns({ status: "queued", limit: 50 })).toEqual([]);
    expect(runRows(file)).toBe(0);

    const next = open(file);
    expect(await next.getRun(run.runId)).toMatchObject({ status: "queued", startedAt: null, nodes: [] });
    expect(await next.listUnfinishedRuns()).toEqual([run]);
  });

  it("writes a finished node after the running nodes that started before it, so the file keeps their order", async () => {
    const file = nextFile();
    const store = open(file);
    const run = await startOne(store);
    await store.recordNode(run.runId, makeNode("slow"));
    await store.recordNode(run.runId, makeNode("fast"));
    const fast = makeNode("fast", { status: "succeeded", durationMs: 1 });
    await store.recordNode(run.runId, fast);
    expect(fileNodes(file, run.runId)).toEqual([
      ["slow", "running"],
      ["fast", "succeeded"],
    ]);

    const slow = makeNode("slow", { status: "succeeded", durationMs: 9 });
    await store.recordNode(run.runId, slow);
    await store.finishRun(run.runId, finished);
    const expected = {
      ...run,
      status: "succeeded",
      startedAt,
      finishedAt: finished.finishedAt,
      error: null,
      nodes: [slow, fast],
      retriedBy: null,
    };
    expect(await store.getRun(run.runId)).toEqual(expected);
    expect(await open(file).getRun(run.runId)).toEqual(expected);
  });

  it("writes, at the finish, the records of nodes still running then, as they were last seen", async () => {
    const file = nextFile();
    const store = open(file);
    const run = await startOne(store);
    await store.recordNode(run.runId, makeNode("first"));
    const first = makeNode("first", { status: "succeeded", durationMs: 3 });
    await store.recordNode(run.runId, first);
    await store.recordNode(run.runId, makeNode("stuck"));
    await store.finishRun(run.runId, { status: "failed", finishedAt: finished.finishedAt, error: "boom" });

    expect(fileNodes(file, run.runId)).toEqual([
      ["first", "succeeded"],
      ["stuck", "running"],
    ]);
    expect(await open(file).getRun(run.runId)).toMatchObject({
      status: "failed",
      nodes: [first, makeNode("stuck")],
    });
  });

  it("keeps the start and the running nodes in memory when the batch that wrote them is rolled back", async () => {
    const store = open(nextFile());
    const run = await startOne(store);
    await store.recordNode(run.runId, makeNode("slow"));
    await store.recordNode(run.runId, makeNode("fast"));
    const badWrite = () =>
      store.accept({
        event: makeEvent(),
        dedup: { scope: "s", hash: "not-a-hash", ttlMs: 1000 },
        workflows: [],
      });
    const fast = makeNode("fast", { status: "succeeded", durationMs: 1 });
    // One turn: each write shares a batch with one that throws, and runs again without it.
    const [recorded] = await Promise.allSettled([store.recordNode(run.runId, fast), badWrite()]);
    expect(recorded.status).toBe("fulfilled");
    expect((await store.getRun(run.runId))?.nodes).toEqual([makeNode("slow"), fast]);

    const slow = makeNode("slow", { status: "succeeded", durationMs: 9 });
    await store.recordNode(run.runId, slow);
    const [finish] = await Promise.allSettled([store.finishRun(run.runId, finished), badWrite()]);
    expect(finish.status).toBe("fulfilled");
    expect(await store.getRun(run.runId)).toMatchObject({
      status: "succeeded",
      startedAt,
      nodes: [slow, fast],
    });
  });
});

describe("the count of finished runs that pruning follows (SQLite)", () => {
  /** Accepts one event with one run per name and finishes them in order; returns them. */
  async function finishRuns(store: SqliteStore, count: number): Promise<RunRef[]> {
    const runs: RunRef[] = [];
    for (let index = 0; index < count; index += 1) {
      const [run] = await accept(store, ["wf"]);
      if (!run) throw new Error("expected a run");
      await store.finishRun(run.runId, finished);
      runs.push(run);
    }
    return runs;
  }

  it("counts the history already in the file when it opens", async () => {
    const file = nextFile();
    const [oldest, second] = await finishRuns(open(file, 2), 2);
    await stores.pop()?.close();

    const reopened = open(file, 2);
    await finishRuns(reopened, 1);
    expect(await reopened.getRun(oldest!.runId)).toBeUndefined();
    expect((await reopened.getRun(second!.runId))?.status).toBe("succeeded");
  });

  it("takes a finish back from the count when its batch is rolled back", async () => {
    const store = open(nextFile(), 2);
    const [first, second] = [...(await accept(store, ["wf"])), ...(await accept(store, ["wf"]))];
    // One turn: the finish and a write that throws share a batch, which runs again without the bad write.
    const [finish, bad] = await Promise.allSettled([
      store.finishRun(first!.runId, finished),
      store.accept({
        event: makeEvent(),
        dedup: { scope: "s", hash: "not-a-hash", ttlMs: 1000 },
        workflows: [],
      }),
    ]);
    expect(finish.status).toBe("fulfilled");
    expect(bad.status).toBe("rejected");

    // Two finished runs are within the history of two: counted three, the first would be pruned.
    await store.finishRun(second!.runId, finished);
    expect((await store.getRun(first!.runId))?.status).toBe("succeeded");
  });

  it("upgrades a version 5 file, whose counter row and triggers counted them, and prunes by its runs", async () => {
    const file = nextFile();
    const v5 = new Database(file);
    const [oldest, second] = recordFinishedRunsAsVersion5(v5, 2);
    v5.close();

    const upgraded = open(file, 2);
    expect((await upgraded.getRun(second!))?.status).toBe("succeeded");
    await finishRuns(upgraded, 1);
    expect(await upgraded.getRun(oldest!)).toBeUndefined();
    const raw = new Database(file, { readonly: true });
    const left = raw
      .prepare(
        "SELECT name FROM sqlite_master WHERE name LIKE 'runs_finished%' UNION ALL SELECT name FROM counters WHERE name = 'finished_runs'",
      )
      .pluck()
      .all();
    raw.close();
    expect(left).toEqual([]);
  });
});

describe("a serving SQLite store's memory of the runs it accepted", () => {
  it("starts an accepted run as the file has it, and one finished before its start as finished", async () => {
    const store = open(nextFile(), undefined, true);
    const event = makeEvent();
    const outcome = await store.accept({ event, dedup: null, workflows: ["first", "second"] });
    if (outcome.outcome !== "accepted") throw new Error("expected an accepted event");
    const [first, second] = outcome.runs as [RunRef, RunRef];
    await store.finishRun(second.runId, finished);

    expect(await store.startRun(first.runId, "2024-01-01T00:00:00.000Z")).toEqual({
      ...first,
      status: "running",
      startedAt: "2024-01-01T00:00:00.000Z",
      finishedAt: null,
      error: null,
      nodes: [],
      retriedBy: null,
    });
    expect(await store.startRun(second.runId, "2024-01-01T00:00:00.000Z")).toMatchObject({
      status: "succeeded",
      finishedAt: finished.finishedAt,
    });
  });

  it("gives each reader of an accepted event a copy of its own", async () => {
    const store = open(nextFile(), undefined, true);
    const event = makeEvent({ body: { order: { id: 7 } } });
    await store.accept({ event, dedup: null, workflows: ["first", "second"] });

    const read = await store.getEvent(event.eventId);
    expect(read).toEqual(event);
    (read?.body as { order: { id: number } }).order.id = 8;
    expect(await store.getEvent(event.eventId)).toEqual(event);
  });
});
