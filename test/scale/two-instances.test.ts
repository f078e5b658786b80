import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "../helpers/eventually.js";
import {
  deleteKeys,
  eventSink,
  post,
  REDIS_URL,
  reportSkippedWithoutRedis,
  sinkProject,
  startInstance,
  uniquePrefix,
  type Instance,
} from "../helpers/scale.js";
import { startSink, type Sink } from "../helpers/sink.js";
import type { TempProject } from "../helpers/temp-project.js";

reportSkippedWithoutRedis("test/scale/two-instances.test.ts");

const ADMIN_TOKEN = "scale-admin-token";
/** Enough for a killed instance's jobs to lapse and be taken over, with room for a slow machine. */
const TAKEOVER_TIMEOUT_MS = 40_000;

describe.skipIf(!REDIS_URL)("two instances sharing one Redis", () => {
  const redisUrl = REDIS_URL ?? "";
  let sink: Sink;
  let project: TempProject;
  let prefix: string;
  const instances: Instance[] = [];

  async function setUp(label: string): Promise<void> {
    sink = await startSink();
    project = await sinkProject(sink);
    prefix = uniquePrefix(label);
  }

  function start(env?: Record<string, string>): Promise<Instance> {
    return startInstance({ project, redisUrl, prefix, env: { INLET_ADMIN_TOKEN: ADMIN_TOKEN, ...env } }).then(
      (instance) => {
        instances.push(instance);
        return instance;
      },
    );
  }

  async function adminJson<T>(baseUrl: string, path: string): Promise<T> {
    const response = await fetch(`${baseUrl}${path}`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    if (response.status !== 200) throw new Error(`GET ${path} → ${response.status}`);
    return (await response.json()) as T;
  }

  afterEach(async () => {
    await Promise.all(instances.splice(0).map((instance) => instance.kill()));
    await sink.close();
    project.cleanup();
    await deleteKeys(redisUrl, prefix);
  });

  it("answers 40 concurrent identical requests spread over both with exactly one 200, and runs it once", async () => {
    await setUp("dedup");
    const events = eventSink(sink);
    const [a, b] = await Promise.all([start(), start()]);
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => post((i % 2 === 0 ? a : b).url, { id: "order-1" })),
    );

    const accepted = answers.filter((answer) => answer.status === 200);
    expect(accepted).toHaveLength(1);
    const eventId = accepted[0]?.eventId ?? "";
    const duplicates = answers.filter((answer) => answer.status === 204);
    expect(duplicates).toHaveLength(39);
    expect(new Set(duplicates.map((answer) => answer.duplicateOf))).toEqual(new Set([eventId]));
    await eventually(() => expect(events.delivered).toEqual(new Set([eventId])), { timeoutMs: 15_000 });
  }, 30_000);

  it("retries a failed run once when both instances are asked at the same time: one 202, one 409 naming it, one more call", async () => {
    await setUp("retry");
    let rejecting = true;
    sink.respond(() =>
      rejecting ? { status: 400, body: { error: "rejected" } } : { status: 200, body: {} },
    );
    const [a, b] = await Promise.all([start(), start()]);
    const accepted = await post(a.url, { id: "order-1" });
    expect(accepted.status).toBe(200);
    const failed = await eventually(
      async () => {
        const { runs } = await adminJson<{ runs: { runId: string; eventId: string }[] }>(
          b.url,
          "/v1/admin/runs?workflow=forward&status=failed",
        );
        const run = runs.find((r) => r.eventId === accepted.eventId);
        if (!run) throw new Error("the run has not failed yet");
        return run;
      },
      { timeoutMs: 15_000 },
    );
    rejecting = false;

    const answers = await Promise.all(
      [a, b].map(async (instance) => {
        const response = await fetch(`${instance.url}/v1/admin/runs/${failed.runId}/retry`, {
          method: "POST",
          headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        });
        return { status: response.status, body: (await response.json()) as Record<string, unknown> };
      }),
    );
    expect(answers.map((answer) => answer.status).sort()).toEqual([202, 409]);
    const retryId = answers.find((answer) => answer.status === 202)?.body["runId"];
    expect(answers.find((answer) => answer.status === 409)?.body).toMatchObject({
      error: { code: "already-retried", retriedBy: retryId },
    });

    await eventually(
      async () => {
        const run = await adminJson<{ status: string }>(a.url, `/v1/admin/runs/${String(retryId)}`);
        expect(run.status).toBe("succeeded");
      },
      { timeoutMs: 15_000 },
    );
    const { runs } = await adminJson<{ runs: { runId: string; eventId: string }[] }>(
      a.url,
      "/v1/admin/runs?workflow=forward",
    );
    expect(runs.filter((run) => run.eventId === accepted.eventId).map((run) => run.runId)).toEqual([
      retryId,
      failed.runId,
    ]);
    // The failed call, then the one retry.
    expect(sink.calls.map((call) => call.url)).toEqual(["/events", "/events"]);
  }, 30_000);

  it("delivers, from the surviving instance, every event accepted by an instance killed with SIGKILL", async () => {
    await setUp("takeover");
    const events = eventSink(sink);
    events.setFailing(true);
    const a = await start({ INLET_CONCURRENCY: "20" });
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => post(a.url, { id: `order-${i}` })));
    expect(answers.map((answer) => answer.status)).toEqual(Array(8).fill(200));
    const accepted = new Set(answers.map((answer) => answer.eventId ?? ""));
    // Every run is in progress on A (it has called the failing sink) before A dies.
    await eventually(() => expect(events.attempted).toEqual(accepted), { timeoutMs: 15_000 });

    const b = await start();
    await a.kill();
    events.setFailing(false);

    await eventually(() => expect(events.delivered).toEqual(accepted), { timeoutMs: TAKEOVER_TIMEOUT_MS });
    await eventually(
      async () => {
        const response = await fetch(`${b.url}/v1/admin/runs?workflow=forward`, {
          headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        });
        const { runs } = (await response.json()) as { runs: { eventId: string; status: string }[] };
        expect(new Set(runs.map((run) => run.eventId))).toEqual(accepted);
        expect(runs.map((run) => run.status)).toEqual(Array(8).fill("succeeded"));
      },
      { timeoutMs: 10_000 },
    );
  }, 90_000);

  it("hands the runs of an instance stopped with SIGTERM to the other one", async () => {
    await setUp("handover");
    const events = eventSink(sink);
    events.setFailing(true);
    const a = await start({ INLET_CONCURRENCY: "20" });
    const answers = await Promise.all(Array.from({ length: 4 }, (_, i) => post(a.url, { id: `order-${i}` })));
    const accepted = new Set(answers.map((answer) => answer.eventId ?? ""));
    await eventually(() => expect(events.attempted).toEqual(accepted), { timeoutMs: 15_000 });

    const b = await start();
    await a.stop();
    expect(a.child.exitCode).toBe(0);
    events.setFailing(false);

    await eventually(() => expect(events.delivered).toEqual(accepted), { timeoutMs: 15_000 });
    expect(b.output()).not.toContain("the instance running it stopped");
  }, 60_000);
});
