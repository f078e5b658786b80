import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openStore } from "../../src/store/open-store.js";
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
