import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createConfigLoader } from "../../src/config/load.js";
import { buildSnapshot } from "../../src/config/snapshot.js";
import { SnapshotHolder } from "../../src/config/snapshot-holder.js";
import type { Runner } from "../../src/engine/dispatcher.js";
import { createQueueRunner } from "../../src/engine/queue-runner.js";
import { createMetrics } from "../../src/metrics.js";
import { createHttpTransport } from "../../src/nodes/http-transport.js";
import { builtinRegistry } from "../../src/nodes/registry.js";
import { openStore } from "../../src/store/open-store.js";
import type { RunRef, Store } from "../../src/store/store.js";
import { eventually } from "../helpers/eventually.js";
import {
  deleteKeys,
  eventSink,
  REDIS_URL,
  reportSkippedWithoutRedis,
  sinkProject,
  uniquePrefix,
  type EventSink,
} from "../helpers/scale.js";
import { startSink, type Sink } from "../helpers/sink.js";
import { memoryLogger } from "../helpers/start-server.js";
import { orderEvent, type TempProject } from "../helpers/temp-project.js";
import { IngressLoad } from "../../src/engine/run-throttle.js";

reportSkippedWithoutRedis("test/scale/queue-runner.test.ts");

const ATTEMPTS = 2;

describe.skipIf(!REDIS_URL)("the BullMQ run queue", () => {
  const redisUrl = REDIS_URL ?? "";
  let sink: Sink;
  let events: EventSink;
  let project: TempProject;
  let prefix: string;
  let store: Store;
  let runner: Runner;
  let holder: SnapshotHolder;

  beforeEach(async () => {
    sink = await startSink();
    events = eventSink(sink);
    project = await sinkProject(sink);
    prefix = uniquePrefix("queue");
    const loaded = await createConfigLoader(builtinRegistry).load(project.dir);
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.diagnostics));
    const built = buildSnapshot(loaded.config, { env: {}, jwtKey: null, requireSecrets: true });
    if (!built.ok) throw new Error(JSON.stringify(built.diagnostics));
    store = await openStore(redisUrl, { redisPrefix: prefix });
    holder = new SnapshotHolder(built.snapshot);
    runner = newRunner();
  });

  function newRunner(): Runner {
    return createQueueRunner({
      store,
      load: new IngressLoad(),
      holder,
      http: createHttpTransport({ denyPrivate: false }),
      env: {},
      logger: memoryLogger().logger,
      metrics: createMetrics({ defaultMetrics: false }),
      concurrency: 4,
      redisUrl,
      prefix,
      retry: { attempts: ATTEMPTS, backoffMs: 1 },
    });
  }

  afterEach(async () => {
    await runner.stop(1000);
    await store.close();
    await sink.close();
    project.cleanup();
    await deleteKeys(redisUrl, prefix);
  });

  async function acceptEvent(): Promise<{ eventId: string; run: RunRef }> {
    const event = orderEvent(randomUUID(), "order-1");
    const outcome = await store.accept({ event, dedup: null, workflows: ["forward"] });
    if (outcome.outcome !== "accepted" || !outcome.runs[0]) throw new Error("the event was not accepted");
    return { eventId: event.eventId, run: outcome.runs[0] };
  }

  it("executes a run once however often it is dispatched and resumed", async () => {
    const { eventId, run } = await acceptEvent();
    await Promise.all([runner.dispatch([run]), runner.dispatch([run]), runner.resumeUnfinished()]);
    await runner.dispatch([run]);

    await eventually(async () => expect((await store.getRun(run.runId))?.status).toBe("succeeded"));
    expect(events.delivered).toEqual(new Set([eventId]));
    expect(sink.calls).toHaveLength(1);
  });

  it("executes a recorded run that was never queued (its dispatch failed) when unfinished runs are resumed", async () => {
    const { eventId, run } = await acceptEvent();

    expect(await runner.resumeUnfinished()).toBe(1);

    await eventually(async () => expect((await store.getRun(run.runId))?.status).toBe("succeeded"));
    expect(events.delivered).toEqual(new Set([eventId]));
  });

  it("records a run whose execution keeps failing as failed, with the error, once its attempts are spent", async () => {
    const { eventId, run } = await acceptEvent();
    const redis = new Redis(redisUrl);
    // A stored event that cannot be read back: every attempt to execute the run throws.
    await redis.hset(`${prefix}event:${eventId}`, "json", "{not json");
    redis.disconnect();

    await runner.dispatch([run]);

    const failed = await eventually(async () => {
      const record = await store.getRun(run.runId);
      expect(record?.status).toBe("failed");
      return record;
    });
    expect(failed?.error).toContain(`after ${ATTEMPTS} attempts`);
    expect(sink.calls).toHaveLength(0);
    expect(await runner.resumeUnfinished()).toBe(0);
  });

  it("stops cleanly at once, while its Redis connections are still being set up", async () => {
    // Cut mid-handshake, ioredis's ready check and BullMQ's blocking client were rejected with
    // nobody listening, which ends a process.
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown): void => {
      rejections.push(reason);
    };
    process.on("unhandledRejection", onRejection);
    try {
      // Stopped after 0 to 9 ms, so one stop lands between a connection's TCP connect and its ready check.
      for (let delayMs = 0; delayMs < 10; delayMs += 1) {
        const quick = newRunner();
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        await quick.stop(100);
      }
      // The rejection surfaced once the cut connection's TCP connect completed, just after the stop.
      await new Promise((resolve) => setTimeout(resolve, 200));
    } finally {
      process.off("unhandledRejection", onRejection);
    }
    expect(rejections).toEqual([]);
  });
});
