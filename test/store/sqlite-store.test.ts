import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { openStore } from "../../src/store/open-store.js";
import { migrateSqlite } from "../../src/store/sqlite-schema.js";
import { describeStoreConformance, makeEvent, testHash } from "./conformance.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "inlet-sqlite-"));
let files = 0;
const nextFile = () => path.join(dir, `nested-${++files}`, "inlet.db");

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describeStoreConformance("sqlite:", (tuning) => openStore(`sqlite:${nextFile()}`, { ...tuning }));
// Serving, the store also answers from its memory of what it accepted (sqlite-store.ts).
describeStoreConformance("sqlite: serving", (tuning) =>
  openStore(`sqlite:${nextFile()}`, { ...tuning, serve: true }),
);

describe("sqlite store", () => {
  it("keeps a dedup key, an event and a queued run across close and reopen", async () => {
    const url = `sqlite:${nextFile()}`;
    const first = await openStore(url, {});
    const event = makeEvent();
    const dedup = { scope: "shop-cart", hash: testHash("h1"), ttlMs: 60_000 };
    const outcome = await first.accept({ event, dedup, workflows: ["wf"] });
    await first.close();

    const reopened = await openStore(url, {});
    try {
      expect(await reopened.getEvent(event.eventId)).toEqual(event);
      expect(await reopened.listUnfinishedRuns()).toEqual(outcome.outcome === "accepted" ? outcome.runs : []);
      expect(await reopened.accept({ event: makeEvent(), dedup, workflows: ["wf"] })).toEqual({
        outcome: "duplicate",
        firstEventId: event.eventId,
      });
    } finally {
      await reopened.close();
    }
  });

  it("keeps a failed run's retry across close and reopen: a retry after the restart is refused, naming it", async () => {
    const url = `sqlite:${nextFile()}`;
    const first = await openStore(url, { serve: true });
    const outcome = await first.accept({ event: makeEvent(), dedup: null, workflows: ["wf"] });
    const failed = outcome.outcome === "accepted" ? outcome.runs[0] : undefined;
    if (!failed) throw new Error("expected a run");
    await first.finishRun(failed.runId, {
      status: "failed",
      finishedAt: new Date().toISOString(),
      error: "boom",
    });
    const retry = await first.retryRun(failed.runId);
    if (retry.outcome !== "created") throw new Error(`expected a retry, got ${retry.outcome}`);
    await first.close();

    const reopened = await openStore(url, { serve: true });
    try {
      expect(await reopened.retryRun(failed.runId)).toEqual({
        outcome: "already-retried",
        retriedBy: retry.run.runId,
      });
      expect(await reopened.getRun(failed.runId)).toMatchObject({
        status: "failed",
        retriedBy: retry.run.runId,
      });
      expect(await reopened.listUnfinishedRuns()).toEqual([retry.run]);
    } finally {
      await reopened.close();
    }
  });

  it("upgrades a version 8 file so that each of its failed runs can be retried once", async () => {
    const file = nextFile();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const v8 = new Database(file);
    migrateSqlite(v8, undefined, 8);
    const event = makeEvent();
    v8.prepare("INSERT INTO events (event_id, json) VALUES (?, ?)").run(event.eventId, JSON.stringify(event));
    v8.prepare(
      "INSERT INTO runs (run_id, workflow, event_id, status, finished_at, error) VALUES ('failed-run', 'wf', ?, 'failed', ?, 'boom')",
    ).run(event.eventId, new Date().toISOString());
    v8.exec("UPDATE counters SET value = (SELECT MAX(seq) FROM events) WHERE name = 'run_rows_through'");
    v8.close();

    const upgraded = await openStore(`sqlite:${file}`, { serve: true });
    try {
      expect(await upgraded.getRun("failed-run")).toMatchObject({ status: "failed", retriedBy: null });
      const retry = await upgraded.retryRun("failed-run");
      expect(retry).toMatchObject({ outcome: "created", run: { workflow: "wf", eventId: event.eventId } });
      expect(await upgraded.retryRun("failed-run")).toEqual({
        outcome: "already-retried",
        retriedBy: retry.outcome === "created" ? retry.run.runId : "",
      });
    } finally {
      await upgraded.close();
    }
  });

  it("resolves a relative path against the working directory and creates its folder", async () => {
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const store = await openStore("sqlite:relative/data/inlet.db", {});
      await store.ping();
      await store.close();
    } finally {
      process.chdir(cwd);
    }
    expect(fs.existsSync(path.join(dir, "relative", "data", "inlet.db"))).toBe(true);
  });
});
