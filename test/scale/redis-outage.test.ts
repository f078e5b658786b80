import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "../helpers/eventually.js";
import {
  eventSink,
  post,
  privateRedis,
  REDIS_URL,
  reportSkippedWithoutRedis,
  sinkProject,
  startInstance,
  uniquePrefix,
  waitReady,
  type Answer,
  type Instance,
  type PrivateRedis,
} from "../helpers/scale.js";
import { startSink, type Sink } from "../helpers/sink.js";
import type { TempProject } from "../helpers/temp-project.js";

reportSkippedWithoutRedis("test/scale/redis-outage.test.ts");

/** Reconnect backoff is capped at a few seconds; this leaves room for a slow machine. */
const RECOVERY_TIMEOUT_MS = 30_000;
const OUTAGE_LOG = "the run queue cannot reach Redis";

// Each test stops and starts a redis-server of its own: the shared one is never touched.
describe.skipIf(!REDIS_URL)("Redis outages", () => {
  let redis: PrivateRedis;
  let sink: Sink;
  let project: TempProject;
  const instances: Instance[] = [];

  async function setUp(): Promise<ReturnType<typeof eventSink>> {
    redis = await privateRedis();
    sink = await startSink();
    project = await sinkProject(sink);
    return eventSink(sink);
  }

  async function start(): Promise<Instance> {
    const instance = await startInstance({ project, redisUrl: redis.url, prefix: uniquePrefix("outage") });
    instances.push(instance);
    return instance;
  }

  afterEach(async () => {
    await Promise.all(instances.splice(0).map((instance) => instance.kill()));
    await redis.cleanup();
    await sink.close();
    project.cleanup();
  });

  it("answers 503 while Redis is stopped, delivers every event it answered 200 for, and recovers by itself", async () => {
    const events = await setUp();
    await redis.start();
    const pair = await Promise.all([start(), start()]);
    const answers: { instance: number; answer: Answer }[] = [];
    let sending = true;
    let sequence = 0;
    const streams = pair.map(async (instance, index) => {
      while (sending)
        answers.push({ instance: index, answer: await post(instance.url, { id: `e-${sequence++}` }) });
    });

    await eventually(() =>
      expect(answers.filter(({ answer }) => answer.status === 200).length).toBeGreaterThan(10),
    );
    await redis.stop();
    const stoppedAt = answers.length;
    await eventually(
      () => {
        const refused = answers.slice(stoppedAt).filter(({ answer }) => answer.status === 503);
        for (const index of [0, 1]) {
          expect(refused.filter(({ instance }) => instance === index).length).toBeGreaterThanOrEqual(5);
        }
      },
      { timeoutMs: 15_000 },
    );
    await redis.start();
    const restartedAt = answers.length;
    await eventually(
      () => {
        const recovered = answers.slice(restartedAt).filter(({ answer }) => answer.status === 200);
        expect(new Set(recovered.map(({ instance }) => instance))).toEqual(new Set([0, 1]));
      },
      { timeoutMs: RECOVERY_TIMEOUT_MS },
    );
    sending = false;
    await Promise.all(streams);

    expect(new Set(answers.map(({ answer }) => answer.status))).toEqual(new Set([200, 503]));
    for (const { answer } of answers.filter(({ answer }) => answer.status === 503)) {
      expect(Number(answer.retryAfter)).toBeGreaterThan(0);
    }
    const accepted = new Set(answers.flatMap(({ answer }) => (answer.eventId ? [answer.eventId] : [])));
    await eventually(() => expect([...accepted].filter((id) => !events.delivered.has(id))).toEqual([]), {
      timeoutMs: RECOVERY_TIMEOUT_MS,
    });
    for (const instance of pair) {
      expect(instance.child.exitCode).toBeNull();
      expect(instance.output().split(OUTAGE_LOG).length - 1).toBeLessThanOrEqual(1);
      await waitReady(instance.url, RECOVERY_TIMEOUT_MS);
    }
  }, 90_000);

  it("starts while Redis is down and becomes ready, and runs workflows, once Redis is up", async () => {
    const events = await setUp();
    const instance = await start();
    const notReady = await fetch(`${instance.url}/readyz`);
    expect(notReady.status).toBe(503);
    // Redis's address and error are the operator's (in the log), not an unauthenticated prober's.
    expect(await notReady.json()).toEqual({
      error: { code: "store-unavailable", message: "The store cannot be reached; retry later" },
    });
    await eventually(() => expect(instance.output()).toContain("store unavailable: answering 503"));
    expect((await post(instance.url, { id: "early" })).status).toBe(503);

    await redis.start();
    await waitReady(instance.url, RECOVERY_TIMEOUT_MS);
    const answer = await post(instance.url, { id: "late" });
    expect(answer.status).toBe(200);
    await eventually(() => expect(events.delivered.has(answer.eventId ?? "")).toBe(true), {
      timeoutMs: 15_000,
    });
  }, 60_000);
});
