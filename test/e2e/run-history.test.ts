import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { eventually } from "../helpers/eventually.js";
import { deleteKeys, uniquePrefix } from "../helpers/scale.js";
import { startSink, type Sink, type SinkCall } from "../helpers/sink.js";
import { startServer, type TestServer } from "../helpers/start-server.js";
import type { TempProject } from "../helpers/temp-project.js";
import {
  ADMIN_TOKEN,
  API_TOKEN,
  admin,
  forwardProject,
  listRuns,
  postEvent,
  type RunDetail,
  type RunSummary,
} from "./support.js";

/** A second workflow on the same integration, so each event has two runs to filter between. */
const TALLY_WORKFLOW = [
  "kind: Workflow",
  "id: tally",
  "trigger: { type: business-event, integration: orders }",
  "nodes:",
  "  - id: note",
  "    type: set",
  "    values:",
  '      order: "{{ request.body.id }}"',
].join("\n");

/** What GET /v1/admin/runs/{runId} adds to SPEC 6's fields: the run that retried this one. */
type RetriedRunDetail = RunDetail & { readonly retriedBy: string | null };
type RetryAccepted = { readonly runId: string; readonly retryOf: string; readonly status: string };
type RetryAnswer =
  | RetryAccepted
  | { readonly error: { readonly code: string; readonly message: string; readonly retriedBy?: string } };

let sink: Sink;
let project: TempProject;
let server: TestServer;

const REDIS_URL = process.env["REDIS_URL"];
if (!REDIS_URL)
  console.warn("test/e2e/run-history.test.ts: the redis store is skipped, set REDIS_URL to run it");
const STORES = ["sqlite", "memory", ...(REDIS_URL ? ["redis"] : [])];

describe.each(STORES)("run history with the %s store", (storeKind) => {
  let redisPrefix: string | undefined;
  let serverEnv: Record<string, string>;

  beforeEach(async () => {
    sink = await startSink();
    project = await forwardProject(sink, {
      attempts: 3,
      timeout: "2s",
      extraFiles: { "workflows/tally.yaml": TALLY_WORKFLOW },
    });
    redisPrefix = storeKind === "redis" ? uniquePrefix("e2e-runs") : undefined;
    const stores: Record<string, string> = {
      sqlite: `sqlite:${path.join(project.dir, "inlet.db")}`,
      memory: "memory:",
      redis: REDIS_URL ?? "",
    };
    serverEnv = {
      INLET_DIR: project.dir,
      INLET_STORE: stores[storeKind] ?? "",
      ...(redisPrefix ? { INLET_REDIS_PREFIX: redisPrefix } : {}),
      INLET_ADMIN_TOKEN: ADMIN_TOKEN,
      API_TOKEN,
    };
    server = await startServer(serverEnv);
  });

  afterEach(async () => {
    await server.shutdown();
    await sink.close();
    project.cleanup();
    if (REDIS_URL && redisPrefix) await deleteKeys(REDIS_URL, redisPrefix);
  });

  async function accept(body: unknown, headers?: Record<string, string>): Promise<string> {
    const answer = await postEvent(server.url, body, headers);
    expect(answer.status).toBe(200);
    return answer.eventId ?? "";
  }

  /** Waits until the event's run of `workflow` has finished, and returns it. */
  async function finishedRun(eventId: string, workflow = "forward"): Promise<RunSummary> {
    return eventually(async () => {
      const run = (await listRuns(server.url, `?workflow=${workflow}`)).find((r) => r.eventId === eventId);
      if (!run || run.status === "queued" || run.status === "running") {
        throw new Error(`the ${workflow} run of ${eventId} has not finished: ${JSON.stringify(run)}`);
      }
      return run;
    });
  }

  async function runDetail(runId: string): Promise<{ run: RetriedRunDetail; text: string }> {
    const answer = await admin<RetriedRunDetail>(server.url, `/v1/admin/runs/${runId}`);
    expect(answer.status).toBe(200);
    return { run: answer.body, text: answer.text };
  }

  /** Replaces workflow `forward` and reloads, as an operator editing its file does. */
  async function reloadWith(forwardYaml: string): Promise<void> {
    await project.writeAtomically("workflows/forward.yaml", forwardYaml);
    expect(await server.reloader.reload("test")).toBe(true);
  }

  const callsFor = (eventId: string): SinkCall[] =>
    sink.calls.filter((call) => (JSON.parse(call.body) as { eventId: string }).eventId === eventId);

  const retryRun = (runId: string) =>
    admin<RetryAnswer>(server.url, `/v1/admin/runs/${runId}/retry`, { method: "POST" });

  /** An event whose forward run failed on a 400; the sink answers 200 from then on. */
  async function failedForwardRun(id: string): Promise<RunSummary> {
    sink.respond(() => ({ status: 400, body: { error: "unknown customer" } }));
    const failed = await finishedRun(await accept({ id }));
    expect(failed.status).toBe("failed");
    sink.respond(() => ({ status: 200, body: { ok: true } }));
    return failed;
  }

  async function succeededRun(runId: string): Promise<RetriedRunDetail> {
    return eventually(async () => {
      const { run } = await runDetail(runId);
      if (run.status !== "succeeded") throw new Error(`run ${runId} is ${run.status}`);
      return run;
    });
  }

  describe("GET /v1/admin/runs", () => {
    it("lists runs newest first, filtered by workflow and status, and limited, and counts them in /metrics", async () => {
      const events: string[] = [];
      for (const id of ["o-1", "o-2", "o-3"]) {
        const eventId = await accept({ id });
        events.push(eventId);
        await finishedRun(eventId, "forward");
        await finishedRun(eventId, "tally");
      }
      sink.respond(() => ({ status: 400, body: { error: "rejected" } }));
      const rejected = await accept({ id: "o-4" });
      events.push(rejected);
      await finishedRun(rejected, "forward");
      await finishedRun(rejected, "tally");
      const newestFirst = [...events].reverse();

      const all = await listRuns(server.url);
      expect(all.map((run) => run.eventId)).toEqual(newestFirst.flatMap((eventId) => [eventId, eventId]));
      expect(new Set(all.map((run) => run.runId)).size).toBe(8);

      const forward = await listRuns(server.url, "?workflow=forward");
      expect(forward.map((run) => run.eventId)).toEqual(newestFirst);
      expect(forward.map((run) => run.workflow)).toEqual(Array(4).fill("forward"));
      expect(forward.map((run) => run.status)).toEqual(["failed", "succeeded", "succeeded", "succeeded"]);

      const failed = await listRuns(server.url, "?status=failed");
      expect(failed.map(({ workflow, eventId }) => ({ workflow, eventId }))).toEqual([
        { workflow: "forward", eventId: rejected },
      ]);
      expect(await listRuns(server.url, "?workflow=tally&status=failed")).toEqual([]);
      expect(
        (await listRuns(server.url, "?workflow=tally&status=succeeded")).map((run) => run.eventId),
      ).toEqual(newestFirst);

      const limited = await listRuns(server.url, "?limit=3");
      expect(limited.map((run) => run.runId)).toEqual(all.slice(0, 3).map((run) => run.runId));

      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      expect(metrics).toMatch(/^inlet_runs_total\{workflow="forward",status="succeeded"\} 3$/m);
      expect(metrics).toMatch(/^inlet_runs_total\{workflow="forward",status="failed"\} 1$/m);
      expect(metrics).toMatch(/^inlet_runs_total\{workflow="tally",status="succeeded"\} 4$/m);
      expect(metrics).toMatch(/^inlet_node_duration_seconds_count\{.*workflow="forward".*\} \d+$/m);

      for (const run of all) {
        expect(Object.keys(run).sort()).toEqual(
          ["runId", "workflow", "eventId", "status", "startedAt", "finishedAt", "error"].sort(),
        );
        expect(new Date(run.startedAt ?? "").toISOString()).toBe(run.startedAt);
        expect(new Date(run.finishedAt ?? "").toISOString()).toBe(run.finishedAt);
      }
    });

    it("refuses an unknown status or a bad limit with 400, and a missing or wrong token with 401", async () => {
      const badStatus = await admin<{ error: { code: string } }>(server.url, "/v1/admin/runs?status=done");
      expect(badStatus.status).toBe(400);
      expect(badStatus.body.error.code).toBe("invalid-request");
      expect((await admin(server.url, "/v1/admin/runs?limit=0")).status).toBe(400);
      expect((await admin(server.url, "/v1/admin/runs?limit=ten")).status).toBe(400);
      expect((await admin(server.url, "/v1/admin/runs", { token: "not-the-token" })).status).toBe(401);
      expect((await fetch(`${server.url}/v1/admin/runs`)).status).toBe(401);
      expect((await admin(server.url, "/v1/admin/runs/no-such-run")).status).toBe(404);
    });

    it("refuses a repeated or bracketed parameter, and a limit not in plain digits, with 400; empty ones are no filter", async () => {
      const eventId = await accept({ id: "o-1" });
      await finishedRun(eventId, "forward");
      await finishedRun(eventId, "tally");
      for (const query of [
        "?status=failed&status=bogus",
        "?status=failed&status=failed",
        "?status[]=failed",
        "?status[x]=failed",
        "?workflow=forward&workflow=tally",
        "?workflow[]=forward",
        "?limit=1&limit=1",
        "?limit[]=1",
        "?limit=1e2",
        "?limit=0x10",
        "?limit=1.0",
        "?limit=+5",
        "?limit=05",
        "?limit=%201",
        "?limit=501",
      ]) {
        const answer = await admin<{ error: { code: string } }>(server.url, `/v1/admin/runs${query}`);
        expect({ query, status: answer.status, code: answer.body.error.code }).toEqual({
          query,
          status: 400,
          code: "invalid-request",
        });
      }
      expect(await listRuns(server.url, "?workflow=&status=&limit=")).toHaveLength(2);
      expect(await listRuns(server.url, "?workflow=&status=succeeded&limit=500")).toHaveLength(2);
    });
  });

  describe("GET /v1/admin/runs/{runId}", () => {
    it("shows each node's status, attempts, duration and output, with no bearer token anywhere", async () => {
      const eventId = await accept(
        { id: "o-1", note: "hello" },
        { Authorization: "Bearer incoming-secret-from-the-sender", Cookie: "session=s3cr3t" },
      );
      const summary = await finishedRun(eventId);
      expect(summary.status).toBe("succeeded");
      // The token really was sent, so its absence from the record below is redaction, not omission.
      expect(callsFor(eventId)[0]?.headers["authorization"]).toBe(`Bearer ${API_TOKEN}`);

      const { run, text } = await runDetail(summary.runId);
      expect(run).toMatchObject({ runId: summary.runId, workflow: "forward", eventId, status: "succeeded" });
      expect(run.error).toBeNull();
      expect(run.nodes).toHaveLength(1);
      const [node] = run.nodes;
      expect(node).toMatchObject({
        id: "send",
        type: "outgoing-integration",
        status: "succeeded",
        attempts: 1,
      });
      expect(node?.error).toBeNull();
      expect(node?.durationMs).toEqual(expect.any(Number));
      expect(new Date(node?.startedAt ?? "").toISOString()).toBe(node?.startedAt);
      expect(node?.output).toMatchObject({
        request: {
          method: "POST",
          url: `${sink.url}/events`,
          body: { eventId, runId: summary.runId, id: "o-1" },
        },
        response: { status: 200, body: { ok: true } },
      });

      expect(text).not.toContain(API_TOKEN);
      expect(text).not.toContain("incoming-secret-from-the-sender");
      expect(text).not.toContain("s3cr3t");
      expect(text).not.toMatch(/Bearer\s+[^\s"*[]/);
    });
  });

  describe("failures, retries and replay", () => {
    it("records a permanent 400 as a failed run with its error, after one call", async () => {
      sink.respond(() => ({ status: 400, body: { error: "unknown customer" } }));
      const eventId = await accept({ id: "o-400" });
      const summary = await finishedRun(eventId);
      expect(summary.status).toBe("failed");
      expect(summary.error).toMatch(/400/);

      const { run } = await runDetail(summary.runId);
      expect(run.status).toBe("failed");
      expect(run.error).toMatch(/400/);
      expect(run.nodes).toEqual([
        expect.objectContaining({
          id: "send",
          status: "failed",
          attempts: 1,
          error: expect.stringMatching(/400/),
        }),
      ]);
      expect(callsFor(eventId)).toHaveLength(1);
    });

    it("replays a failed run, once the receiver is fixed, as a new run on the same event that dedup does not stop", async () => {
      sink.respond(() => ({ status: 400, body: { error: "unknown customer" } }));
      const eventId = await accept({ id: "o-replay" });
      const failed = await finishedRun(eventId);
      expect(failed.status).toBe("failed");
      // The event's dedup key lives: the same request again is a duplicate and starts nothing.
      const again = await postEvent(server.url, { id: "o-replay" });
      expect(again.status).toBe(204);
      expect(again.headers.get("inlet-duplicate-of")).toBe(eventId);

      sink.respond(() => ({ status: 200, body: { ok: true } }));
      const retry = await admin<{ runId: string; retryOf: string; status: string }>(
        server.url,
        `/v1/admin/runs/${failed.runId}/retry`,
        { method: "POST" },
      );
      expect(retry.status).toBe(202);
      expect(retry.body.retryOf).toBe(failed.runId);
      expect(retry.body.runId).not.toBe(failed.runId);

      const replayed = await eventually(async () => {
        const { run } = await runDetail(retry.body.runId);
        if (run.status !== "succeeded") throw new Error(`the replay is ${run.status}`);
        return run;
      });
      expect(replayed.eventId).toBe(eventId);
      expect(replayed.nodes).toEqual([
        expect.objectContaining({ id: "send", status: "succeeded", attempts: 1 }),
      ]);
      const calls = callsFor(eventId);
      expect(calls).toHaveLength(2);
      expect((JSON.parse(calls[1]?.body ?? "{}") as { runId: string }).runId).toBe(retry.body.runId);

      const { run: original } = await runDetail(failed.runId);
      expect(original.status).toBe("failed");
      const forEvent = (await listRuns(server.url, "?workflow=forward")).filter((r) => r.eventId === eventId);
      expect(forEvent.map((r) => [r.runId, r.status])).toEqual([
        [retry.body.runId, "succeeded"],
        [failed.runId, "failed"],
      ]);
    });

    it("retries a failed run once: of two concurrent retries one is 202, the other 409 already-retried naming it, and the receiver gets one call", async () => {
      const failed = await failedForwardRun("o-twice");
      const answers = await Promise.all([retryRun(failed.runId), retryRun(failed.runId)]);
      expect(answers.map((answer) => answer.status).sort()).toEqual([202, 409]);
      const accepted = answers.find((answer) => answer.status === 202)?.body as RetryAccepted;
      const refused = answers.find((answer) => answer.status === 409)?.body;
      expect(accepted).toEqual({ runId: expect.any(String), retryOf: failed.runId, status: "queued" });
      const alreadyRetried = {
        error: {
          code: "already-retried",
          message: `Run ${failed.runId} was already retried by run ${accepted.runId}: retry that run if it failed`,
          retriedBy: accepted.runId,
        },
      };
      expect(refused).toEqual(alreadyRetried);

      await succeededRun(accepted.runId);
      const calls = callsFor(failed.eventId);
      expect(calls.map((call) => (JSON.parse(call.body) as { runId: string }).runId)).toEqual([
        failed.runId,
        accepted.runId,
      ]);
      const forEvent = (await listRuns(server.url, "?workflow=forward")).filter(
        (run) => run.eventId === failed.eventId,
      );
      expect(forEvent.map((run) => run.runId)).toEqual([accepted.runId, failed.runId]);
      expect((await runDetail(failed.runId)).run.retriedBy).toBe(accepted.runId);
      expect((await runDetail(accepted.runId)).run.retriedBy).toBeNull();

      // Later too, and whatever the workflow's state: a retried run stays retried.
      const later = await retryRun(failed.runId);
      expect({ status: later.status, body: later.body }).toEqual({ status: 409, body: alreadyRetried });
      expect(callsFor(failed.eventId)).toHaveLength(2);
    });

    it.skipIf(storeKind === "memory")(
      "still refuses a second retry of a failed run after a restart, naming the first retry",
      async () => {
        const failed = await failedForwardRun("o-restart");
        const retry = await retryRun(failed.runId);
        expect(retry.status).toBe(202);
        const retryId = (retry.body as RetryAccepted).runId;
        await succeededRun(retryId);
        await server.shutdown();
        server = await startServer(serverEnv);

        const again = await retryRun(failed.runId);
        expect(again.status).toBe(409);
        expect(again.body).toMatchObject({ error: { code: "already-retried", retriedBy: retryId } });
        expect((await runDetail(failed.runId)).run.retriedBy).toBe(retryId);
        expect(callsFor(failed.eventId)).toHaveLength(2);
      },
    );

    it("refuses to replay a run that did not fail (409 run-not-failed) or does not exist (404)", async () => {
      const eventId = await accept({ id: "o-ok" });
      const succeeded = await finishedRun(eventId);
      expect(succeeded.status).toBe("succeeded");

      const answer = await admin<{ error: { code: string; message: string } }>(
        server.url,
        `/v1/admin/runs/${succeeded.runId}/retry`,
        { method: "POST" },
      );
      expect(answer.status).toBe(409);
      expect(answer.body.error.code).toBe("run-not-failed");
      expect((await admin(server.url, "/v1/admin/runs/no-such-run/retry", { method: "POST" })).status).toBe(
        404,
      );
      expect(callsFor(eventId)).toHaveLength(1);
    });

    it("refuses to replay a run of a disabled workflow (409 workflow-disabled), sending nothing, and replays it once enabled again", async () => {
      sink.respond(() => ({ status: 400, body: { error: "unknown customer" } }));
      const eventId = await accept({ id: "o-disabled" });
      const failed = await finishedRun(eventId);
      expect(failed.status).toBe("failed");
      const enabledYaml = await readFile(path.join(project.dir, "workflows/forward.yaml"), "utf8");
      await reloadWith(enabledYaml.replace("id: forward\n", "id: forward\nenabled: false\n"));
      sink.respond(() => ({ status: 200, body: { ok: true } }));

      const refused = await admin<{ error: { code: string; message: string } }>(
        server.url,
        `/v1/admin/runs/${failed.runId}/retry`,
        { method: "POST" },
      );
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe("workflow-disabled");
      expect(refused.body.error.message).toMatch(/"forward".*enable it/);
      const forEvent = async (): Promise<RunSummary[]> =>
        (await listRuns(server.url, "?workflow=forward")).filter((r) => r.eventId === eventId);
      expect((await forEvent()).map((r) => r.runId)).toEqual([failed.runId]);
      expect(callsFor(eventId)).toHaveLength(1);

      await reloadWith(enabledYaml);
      const retry = await admin<{ runId: string }>(server.url, `/v1/admin/runs/${failed.runId}/retry`, {
        method: "POST",
      });
      expect(retry.status).toBe(202);
      const replayed = await eventually(async () => {
        const { run } = await runDetail(retry.body.runId);
        if (run.status !== "succeeded") throw new Error(`the replay is ${run.status}`);
        return run;
      });
      expect(replayed.eventId).toBe(eventId);
      expect(callsFor(eventId)).toHaveLength(2);
    });

    it("replays a run of a workflow that no longer exists as a new run that fails saying so, sending nothing", async () => {
      sink.respond(() => ({ status: 400, body: { error: "unknown customer" } }));
      const eventId = await accept({ id: "o-removed" });
      const failed = await finishedRun(eventId);
      expect(failed.status).toBe("failed");
      await project.remove("workflows/forward.yaml");
      expect(await server.reloader.reload("test")).toBe(true);

      const retry = await admin<{ runId: string }>(server.url, `/v1/admin/runs/${failed.runId}/retry`, {
        method: "POST",
      });
      expect(retry.status).toBe(202);
      const replayed = await eventually(async () => {
        const { run } = await runDetail(retry.body.runId);
        if (run.status !== "failed") throw new Error(`the replay is ${run.status}`);
        return run;
      });
      expect(replayed.error).toBe('workflow "forward" no longer exists');
      expect(replayed.nodes).toEqual([]);
      expect(callsFor(eventId)).toHaveLength(1);
    });

    it("retries 503, 503 and succeeds on 200: three calls, attempts 3 on the node", async () => {
      sink.respond((_call, index) =>
        index < 2 ? { status: 503, body: "busy" } : { status: 200, body: { ok: 1 } },
      );
      const eventId = await accept({ id: "o-503" });
      const summary = await finishedRun(eventId);
      expect(summary.status).toBe("succeeded");

      const { run } = await runDetail(summary.runId);
      expect(run.nodes).toEqual([
        expect.objectContaining({ id: "send", status: "succeeded", attempts: 3, error: null }),
      ]);
      const calls = callsFor(eventId);
      expect(calls).toHaveLength(3);
      // Every attempt is the same request: the receiver can deduplicate on the event id.
      expect(new Set(calls.map((call) => call.body)).size).toBe(1);
    });
  });
});
