import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { SqliteStore } from "../../src/store/sqlite-store.js";
import type { RunRef } from "../../src/store/store.js";
import { makeEvent } from "./conformance.js";

// A serving store answers the start of a run it accepted, and that run's event, from memory.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "inlet-sqlite-accepted-"));
let counter = 0;
const stores: SqliteStore[] = [];

function serving(): SqliteStore {
  const store = new SqliteStore(path.join(dir, `a${(counter += 1)}.db`), { serve: true });
  stores.push(store);
  return store;
}

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const finished = { finishedAt: "2024-01-01T00:00:01.000Z", error: null };

describe("a serving SQLite store's memory of the runs it accepted", () => {
  it("starts an accepted run as the file has it, and one finished before its start as finished", async () => {
    const store = serving();
    const event = makeEvent();
    const outcome = await store.accept({ event, dedup: null, workflows: ["first", "second"] });
    if (outcome.outcome !== "accepted") throw new Error("expected an accepted event");
    const [first, second] = outcome.runs as [RunRef, RunRef];
    await store.finishRun(second.runId, { status: "succeeded", ...finished });

    expect(await store.startRun(first.runId, "2024-01-01T00:00:00.000Z")).toEqual({
      ...first,
      status: "running",
      startedAt: "2024-01-01T00:00:00.000Z",
      finishedAt: null,
      error: null,
      nodes: [],
    });
    expect(await store.startRun(second.runId, "2024-01-01T00:00:00.000Z")).toMatchObject({
      status: "succeeded",
      finishedAt: finished.finishedAt,
    });
  });

  it("gives each reader of an accepted event a copy of its own", async () => {
    const store = serving();
    const event = makeEvent({ body: { order: { id: 7 } } });
    await store.accept({ event, dedup: null, workflows: ["first", "second"] });

    const read = await store.getEvent(event.eventId);
    expect(read).toEqual(event);
    (read?.body as { order: { id: number } }).order.id = 8;
    expect(await store.getEvent(event.eventId)).toEqual(event);
  });
});
