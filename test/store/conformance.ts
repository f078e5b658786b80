import { createHash, randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { IncomingEvent } from "../../src/ingest/event.js";
import type { StoreTuning } from "../../src/store/store-support.js";
import type { NodeRecord, RunRef, Sample, Store } from "../../src/store/store.js";

/** Opens a fresh, empty store; every test gets its own and closes it. */
export type OpenTestStore = (tuning?: StoreTuning) => Promise<Store>;

/** A dedup hash as the ingress computes it (hex SHA-256), named by a readable label. */
export function testHash(label: string): string {
  return createHash("sha256").update(label).digest("hex");
}

export function makeEvent(overrides: Partial<IncomingEvent> = {}): IncomingEvent {
  return {
    eventId: randomUUID(),
    integration: "shop-cart",
    endpointId: "3f0c2a8e-6c1d-4f4e-9a4b-2a4f8c1d9e11",
    method: "POST",
    time: Date.now(),
    headers: { "content-type": "application/json", authorization: "[redacted]" },
    query: { a: "1", b: ["2", "3"] },
    body: {
      customer_email: "a@b.c",
      products: [{ name: "Earwax", price: 1.5 }],
      nested: { ok: true, no: null },
    },
    ...overrides,
  };
}

function makeSample(n: number): Sample {
  return {
    eventId: `event-${n}`,
    receivedAt: new Date(Date.UTC(2024, 0, 1, 0, 0, n)).toISOString(),
    request: { method: "POST", headers: { "x-n": String(n) }, query: {}, body: { n } },
    flattened: { "body.n": n, "headers.x-n": String(n) },
  };
}

export function makeNode(id: string, overrides: Partial<NodeRecord> = {}): NodeRecord {
  return {
    id,
    type: "outgoing-integration",
    status: "running",
    attempts: 1,
    startedAt: "2024-01-01T00:00:00.000Z",
    durationMs: null,
    output: null,
    error: null,
    ...overrides,
  };
}

const finished = { finishedAt: "2024-01-01T00:01:00.000Z", error: null };

export function describeStoreConformance(name: string, open: OpenTestStore): void {
  describe(`Store conformance: ${name}`, () => {
    let store: Store;
    const opened: Store[] = [];
    const openTracked = async (tuning?: StoreTuning): Promise<Store> => {
      const s = await open(tuning);
      opened.push(s);
      return s;
    };

    beforeEach(async () => {
      store = await openTracked();
    });
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close()));
    });

    const accept = (
      workflows: readonly string[],
      dedup: { scope?: string; hash?: string; ttlMs?: number } | null,
    ) =>
      store.accept({
        event: makeEvent(),
        dedup: dedup && {
          scope: dedup.scope ?? "shop-cart",
          hash: testHash(dedup.hash ?? "h1"),
          ttlMs: dedup.ttlMs ?? 60_000,
        },
        workflows,
      });

    it("answers ping", async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });

    it("accepts every event without dedup and queues one run per workflow", async () => {
      const event = makeEvent();
      const first = await store.accept({ event, dedup: null, workflows: ["wf-a", "wf-b"] });
      const second = await store.accept({ event: makeEvent(), dedup: null, workflows: ["wf-a"] });
      expect(first.outcome).toBe("accepted");
      expect(second.outcome).toBe("accepted");
      if (first.outcome !== "accepted") return;
      expect(first.runs.map((run) => run.workflow)).toEqual(["wf-a", "wf-b"]);
      expect(new Set(first.runs.map((run) => run.runId)).size).toBe(2);
      for (const ref of first.runs) {
        expect(ref.eventId).toBe(event.eventId);
        expect(await store.getRun(ref.runId)).toEqual({
          ...ref,
          status: "queued",
          startedAt: null,
          finishedAt: null,
          error: null,
          nodes: [],
          retriedBy: null,
        });
      }
    });

    it("keeps no event nobody will run, but still claims its dedup key", async () => {
      const event = makeEvent();
      const dedup = { scope: "int", hash: testHash(randomUUID()), ttlMs: 60_000 };
      expect(await store.accept({ event, dedup, workflows: [] })).toEqual({ outcome: "accepted", runs: [] });
      expect(await store.getEvent(event.eventId)).toBeUndefined();
      expect(await store.listUnfinishedRuns()).toEqual([]);
      expect(await store.accept({ event: makeEvent(), dedup, workflows: [] })).toEqual({
        outcome: "duplicate",
        firstEventId: event.eventId,
      });
    });

    it("round-trips the event envelope exactly", async () => {
      const event = makeEvent({ body: [1, "two", { three: [3.25, false, null] }], query: {} });
      await store.accept({ event, dedup: null, workflows: ["wf"] });
      expect(await store.getEvent(event.eventId)).toStrictEqual(event);
      expect(await store.getEvent(randomUUID())).toBeUndefined();
    });

    it("keeps a body given as the sender's JSON text as the value it parses to", async () => {
      // Whitespace, a repeated key (the last wins), escapes and a lone surrogate, as JSON.parse reads them.
      const bodyJson = '{ "b" : 1,\n "a": [1.50, "\\u2028\\ud800\\"x\\""], "b": 2 }';
      const event = makeEvent({ body: JSON.parse(bodyJson) as unknown });
      await store.accept({ event, bodyJson, dedup: null, workflows: ["wf"] });
      const stored = await store.getEvent(event.eventId);
      expect(stored).toStrictEqual(event);
      expect(stored?.body).toStrictEqual({ b: 2, a: [1.5, '\u2028\ud800"x"'] });
    });

    it("answers the same dedup key with a duplicate of the first event and records nothing", async () => {
      const event = makeEvent();
      const dedup = { scope: "shop-cart", hash: testHash("h1"), ttlMs: 60_000 };
      const first = await store.accept({ event, dedup, workflows: ["wf"] });
      expect(first.outcome).toBe("accepted");
      const duplicateEvent = makeEvent();
      const again = await store.accept({ event: duplicateEvent, dedup, workflows: ["wf"] });
      expect(again).toEqual({ outcome: "duplicate", firstEventId: event.eventId });
      expect(await store.getEvent(duplicateEvent.eventId)).toBeUndefined();
      expect(await store.listUnfinishedRuns()).toHaveLength(1);
    });

    it("scopes keys: the same hash in another scope is new", async () => {
      expect((await accept(["wf"], { scope: "one" })).outcome).toBe("accepted");
      expect((await accept(["wf"], { scope: "two" })).outcome).toBe("accepted");
      expect((await accept(["wf"], { scope: "one", hash: "h2" })).outcome).toBe("accepted");
      expect((await accept(["wf"], { scope: "two" })).outcome).toBe("duplicate");
    });

    it("accepts exactly one of 30 concurrent requests with one key", async () => {
      const outcomes = await Promise.all(Array.from({ length: 30 }, () => accept(["wf"], { hash: "race" })));
      const accepted = outcomes.filter((o) => o.outcome === "accepted");
      expect(accepted).toHaveLength(1);
      const firstEventId = accepted[0]?.outcome === "accepted" ? accepted[0].runs[0]?.eventId : undefined;
      for (const o of outcomes.filter((o) => o.outcome === "duplicate")) {
        expect(o).toEqual({ outcome: "duplicate", firstEventId });
      }
      expect(await store.listUnfinishedRuns()).toHaveLength(1);
    });

    it("renews the key on each duplicate (sliding TTL) and forgets it after ttl of silence", async () => {
      const ttlMs = 400;
      expect((await accept(["wf"], { ttlMs })).outcome).toBe("accepted");
      await sleep(250);
      expect((await accept(["wf"], { ttlMs })).outcome).toBe("duplicate");
      await sleep(250);
      // 500 ms after the first request, but only 250 ms after the renewal.
      expect((await accept(["wf"], { ttlMs })).outcome).toBe("duplicate");
      await sleep(ttlMs + 200);
      expect((await accept(["wf"], { ttlMs })).outcome).toBe("accepted");
    });

    it("sweeps only expired keys", async () => {
      await accept([], { hash: "short", ttlMs: 50 });
      await accept([], { hash: "long", ttlMs: 60_000 });
      await sleep(150);
      const swept = await store.sweepExpiredKeys(Date.now());
      if (store.kind !== "redis") expect(swept).toBe(1);
      expect((await accept([], { hash: "long" })).outcome).toBe("duplicate");
      expect((await accept([], { hash: "short" })).outcome).toBe("accepted");
    });

    it("trims the samples kept to a lower count, and to none", async () => {
      for (let n = 1; n <= 4; n++) await store.addSample("shop-cart", makeSample(n), 4);
      await store.addSample("other", makeSample(9), 4);
      await store.addSample("third", makeSample(7), 4);
      await store.trimSamples(
        new Map([
          ["shop-cart", 2],
          ["third", 0],
        ]),
      );
      expect(await store.listSamples("shop-cart")).toEqual([makeSample(4), makeSample(3)]);
      expect(await store.listSamples("third")).toEqual([]);
      await store.trimSamples(
        new Map([
          ["shop-cart", 0],
          ["never-sampled", 0],
        ]),
      );
      expect(await store.listSamples("shop-cart")).toEqual([]);
      expect(await store.listSamples("other")).toEqual([makeSample(9)]);
      await store.trimSamples(new Map());
      expect(await store.listSamples("other")).toEqual([makeSample(9)]);
    });

    it("deletes every sample of the integrations a start does not list, and only those", async () => {
      for (const integration of ["kept", "lowered", "removed"]) {
        for (let n = 1; n <= 3; n++) await store.addSample(integration, makeSample(n), 3);
      }
      await store.trimSamples(
        new Map([
          ["kept", 3],
          ["lowered", 1],
          ["never-sampled", 2],
        ]),
        { dropUnlisted: true },
      );
      expect(await store.listSamples("kept")).toEqual([makeSample(3), makeSample(2), makeSample(1)]);
      expect(await store.listSamples("lowered")).toEqual([makeSample(3)]);
      expect(await store.listSamples("removed")).toEqual([]);
      await store.trimSamples(new Map(), { dropUnlisted: true });
      expect(await store.listSamples("kept")).toEqual([]);
    });

    it("keeps the newest samples, newest first, and none with keep 0", async () => {
      for (let n = 1; n <= 5; n++) await store.addSample("shop-cart", makeSample(n), 3);
      expect(await store.listSamples("shop-cart")).toEqual([makeSample(5), makeSample(4), makeSample(3)]);
      expect(await store.listSamples("other")).toEqual([]);
      await store.addSample("quiet", makeSample(1), 0);
      expect(await store.listSamples("quiet")).toEqual([]);
      await store.addSample("shop-cart", makeSample(6), 0);
      expect(await store.listSamples("shop-cart")).toEqual([]);
    });

    it("runs the lifecycle: start, record nodes, finish", async () => {
      const outcome = await accept(["wf"], null);
      if (outcome.outcome !== "accepted") throw new Error("expected accepted");
      const [ref] = outcome.runs;
      if (!ref) throw new Error("expected a run");
      const started = await store.startRun(ref.runId, "2024-01-01T00:00:00.000Z");
      expect(started).toMatchObject({ ...ref, status: "running", startedAt: "2024-01-01T00:00:00.000Z" });
      // Starting again (a resumed run) keeps the first start.
      expect(await store.startRun(ref.runId, "2024-01-02T00:00:00.000Z")).toMatchObject({
        startedAt: "2024-01-01T00:00:00.000Z",
      });
      expect(await store.startRun(randomUUID(), "2024-01-01T00:00:00.000Z")).toBeUndefined();

      await store.recordNode(ref.runId, makeNode("send"));
      await store.recordNode(
        ref.runId,
        makeNode("done", { type: "end", status: "succeeded", durationMs: 0 }),
      );
      const sent = makeNode("send", {
        status: "succeeded",
        attempts: 2,
        durationMs: 12,
        output: { status: 200, body: [] },
      });
      await store.recordNode(ref.runId, sent);
      await store.finishRun(ref.runId, { status: "succeeded", ...finished });

      expect(await store.getRun(ref.runId)).toEqual({
        ...ref,
        status: "succeeded",
        startedAt: "2024-01-01T00:00:00.000Z",
        finishedAt: finished.finishedAt,
        error: null,
        nodes: [sent, makeNode("done", { type: "end", status: "succeeded", durationMs: 0 })],
        retriedBy: null,
      });
      expect(await store.listUnfinishedRuns()).toEqual([]);
      expect(await store.getRun(randomUUID())).toBeUndefined();
    });

    it("records a failed run with its error", async () => {
      const outcome = await accept(["wf"], null);
      const runId = outcome.outcome === "accepted" ? outcome.runs[0]?.runId : undefined;
      if (!runId) throw new Error("expected a run");
      await store.startRun(runId, "2024-01-01T00:00:00.000Z");
      await store.finishRun(runId, { status: "failed", finishedAt: finished.finishedAt, error: "HTTP 500" });
      expect(await store.getRun(runId)).toMatchObject({ status: "failed", error: "HTTP 500" });
    });

    it("lists runs newest first, filtered by workflow and status, up to the limit", async () => {
      const ids: string[] = [];
      for (const workflow of ["wf-a", "wf-b", "wf-a", "wf-b", "wf-a"]) {
        const outcome = await accept([workflow], null);
        if (outcome.outcome === "accepted") ids.push(outcome.runs[0]?.runId ?? "");
      }
      const [a1, b1, a2, b2, a3] = ids as [string, string, string, string, string];
      await store.startRun(a2, "2024-01-01T00:00:00.000Z");
      await store.finishRun(a2, { status: "succeeded", ...finished });
      await store.startRun(b1, "2024-01-01T00:00:00.000Z");

      const runIds = async (query: Parameters<Store["listRuns"]>[0]) =>
        (await store.listRuns(query)).map((run) => run.runId);
      expect(await runIds({ limit: 50 })).toEqual([a3, b2, a2, b1, a1]);
      expect(await runIds({ limit: 2 })).toEqual([a3, b2]);
      expect(await runIds({ workflow: "wf-a", limit: 50 })).toEqual([a3, a2, a1]);
      expect(await runIds({ status: "queued", limit: 50 })).toEqual([a3, b2, a1]);
      expect(await runIds({ workflow: "wf-b", status: "running", limit: 50 })).toEqual([b1]);
      expect(await runIds({ workflow: "wf-c", limit: 50 })).toEqual([]);
      expect((await store.listRuns({ status: "succeeded", limit: 1 }))[0]).toMatchObject({
        runId: a2,
        workflow: "wf-a",
      });
    });

    it("lists queued and running runs only, oldest first", async () => {
      const refs = [];
      for (let i = 0; i < 4; i++) {
        const outcome = await accept(["wf"], null);
        if (outcome.outcome === "accepted") refs.push(...outcome.runs);
      }
      const [r1, r2, r3, r4] = refs;
      if (!r1 || !r2 || !r3 || !r4) throw new Error("expected four runs");
      await store.startRun(r2.runId, "2024-01-01T00:00:00.000Z");
      await store.startRun(r3.runId, "2024-01-01T00:00:00.000Z");
      await store.finishRun(r3.runId, { status: "failed", finishedAt: finished.finishedAt, error: "boom" });
      expect(await store.listUnfinishedRuns()).toEqual([r1, r2, r4]);
    });

    /** A run of `wf` on a new event, finished as failed. */
    async function failedRun(target: Store = store): Promise<RunRef> {
      const outcome = await target.accept({ event: makeEvent(), dedup: null, workflows: ["wf"] });
      const run = outcome.outcome === "accepted" ? outcome.runs[0] : undefined;
      if (!run) throw new Error("expected a run");
      await target.finishRun(run.runId, { status: "failed", finishedAt: finished.finishedAt, error: "boom" });
      return run;
    }

    it("retries a failed run once, as a new queued run on its event, and names that retry to every later retry", async () => {
      const event = makeEvent();
      const accepted = await store.accept({
        event,
        dedup: { scope: "s", hash: testHash("h"), ttlMs: 60_000 },
        workflows: ["wf"],
      });
      const failed = accepted.outcome === "accepted" ? accepted.runs[0] : undefined;
      if (!failed) throw new Error("expected a run");
      await store.finishRun(failed.runId, {
        status: "failed",
        finishedAt: finished.finishedAt,
        error: "boom",
      });

      const outcome = await store.retryRun(failed.runId);
      if (outcome.outcome !== "created") throw new Error(`expected a retry, got ${outcome.outcome}`);
      const retry = outcome.run;
      expect(retry).toEqual({ runId: expect.any(String), workflow: "wf", eventId: event.eventId });
      expect(retry.runId).not.toBe(failed.runId);
      expect(await store.getRun(retry.runId)).toMatchObject({ status: "queued", retriedBy: null });
      expect(await store.getRun(failed.runId)).toMatchObject({ status: "failed", retriedBy: retry.runId });
      expect(await store.listUnfinishedRuns()).toEqual([retry]);

      expect(await store.retryRun(failed.runId)).toEqual({
        outcome: "already-retried",
        retriedBy: retry.runId,
      });
      expect(await store.listUnfinishedRuns()).toEqual([retry]);
      // The retry is a run like any other: once failed, it can be retried in turn.
      await store.finishRun(retry.runId, {
        status: "failed",
        finishedAt: finished.finishedAt,
        error: "again",
      });
      expect(await store.retryRun(retry.runId)).toMatchObject({
        outcome: "created",
        run: { eventId: event.eventId },
      });
    });

    it("creates one run of concurrent retries of a failed run, and every other retry names it", async () => {
      const failed = await failedRun();
      const outcomes = await Promise.all(Array.from({ length: 5 }, () => store.retryRun(failed.runId)));
      const created = outcomes.flatMap((outcome) => (outcome.outcome === "created" ? [outcome.run] : []));
      expect(created).toHaveLength(1);
      const [retry] = created as [RunRef];
      expect(outcomes.filter((outcome) => outcome.outcome !== "created")).toEqual(
        Array(4).fill({ outcome: "already-retried", retriedBy: retry.runId }),
      );
      expect(await store.listUnfinishedRuns()).toEqual([retry]);
    });

    it("refuses to retry a run that has not failed, or that it does not keep", async () => {
      const outcome = await accept(["wf", "other"], null);
      if (outcome.outcome !== "accepted") throw new Error("expected an accepted event");
      const [queued, succeeded] = outcome.runs as [RunRef, RunRef];
      await store.finishRun(succeeded.runId, { status: "succeeded", ...finished });
      expect(await store.retryRun(queued.runId)).toEqual({ outcome: "not-failed" });
      expect(await store.retryRun(succeeded.runId)).toEqual({ outcome: "not-failed" });
      expect(await store.retryRun(randomUUID())).toEqual({ outcome: "not-found" });
      expect(await store.listUnfinishedRuns()).toEqual([queued]);
    });

    it("generates a secret once and returns the same one afterwards", async () => {
      let calls = 0;
      const generate = () => `secret-${++calls}`;
      expect(await store.getOrCreateSecret("jwt", generate)).toBe("secret-1");
      expect(await store.getOrCreateSecret("jwt", generate)).toBe("secret-1");
      expect(await store.getOrCreateSecret("other", generate)).toBe("secret-2");
      expect(calls).toBe(2);
    });

    it("prunes the oldest finished runs beyond the history limit, and their events", async () => {
      const small = await openTracked({ runHistoryLimit: 2 });
      const events = [];
      const runs = [];
      for (let i = 0; i < 4; i++) {
        const event = makeEvent();
        const outcome = await small.accept({ event, dedup: null, workflows: ["wf"] });
        if (outcome.outcome === "accepted") runs.push(...outcome.runs);
        events.push(event);
      }
      const [r1, r2, r3, r4] = runs;
      if (!r1 || !r2 || !r3 || !r4) throw new Error("expected four runs");
      // r2 stays unfinished: never pruned, however old.
      for (const run of [r1, r3, r4]) await small.finishRun(run.runId, { status: "succeeded", ...finished });
      expect((await small.listRuns({ limit: 50 })).map((run) => run.runId)).toEqual([
        r4.runId,
        r3.runId,
        r2.runId,
      ]);
      expect(await small.getRun(r1.runId)).toBeUndefined();
      expect(await small.getEvent(r1.eventId)).toBeUndefined();
      for (const event of events.slice(1)) expect(await small.getEvent(event.eventId)).toEqual(event);
    });

    it("keeps an event while any of its runs is kept, and retries it from there", async () => {
      const small = await openTracked({ runHistoryLimit: 1 });
      const event = makeEvent();
      const outcome = await small.accept({ event, dedup: null, workflows: ["first", "second"] });
      if (outcome.outcome !== "accepted") throw new Error("expected an accepted event");
      const [first, second] = outcome.runs;
      if (!first || !second) throw new Error("expected two runs");
      await small.finishRun(first.runId, { status: "succeeded", ...finished });
      await small.finishRun(second.runId, { status: "failed", ...finished, error: "boom" });
      // The history keeps one finished run: the first is pruned, the event stays with the second.
      expect(await small.getRun(first.runId)).toBeUndefined();
      expect(await small.getEvent(event.eventId)).toEqual(event);
      const retry = await small.retryRun(second.runId);
      expect(retry).toMatchObject({
        outcome: "created",
        run: { workflow: "second", eventId: event.eventId },
      });
      expect(await small.listUnfinishedRuns()).toEqual([retry.outcome === "created" && retry.run]);
    });

    it("forgets that a failed run was retried when the history prunes it", async () => {
      const small = await openTracked({ runHistoryLimit: 1 });
      const failed = await failedRun(small);
      const retry = await small.retryRun(failed.runId);
      if (retry.outcome !== "created") throw new Error(`expected a retry, got ${retry.outcome}`);
      await small.finishRun(retry.run.runId, { status: "succeeded", ...finished });
      // The history keeps one finished run: the failed one is pruned, and its mark with it.
      expect(await small.getRun(failed.runId)).toBeUndefined();
      expect(await small.retryRun(failed.runId)).toEqual({ outcome: "not-found" });
      expect(await small.getRun(retry.run.runId)).toMatchObject({ status: "succeeded", retriedBy: null });
    });

    it("rejects calls with StoreUnavailableError once closed", async () => {
      await store.close();
      await expect(store.ping()).rejects.toMatchObject({ code: "store-unavailable" });
      await expect(accept(["wf"], null)).rejects.toMatchObject({ code: "store-unavailable" });
    });
  });
}
