import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { eventually } from "../helpers/eventually.js";
import { deleteKeys, uniquePrefix } from "../helpers/scale.js";
import { startSink, type Sink } from "../helpers/sink.js";
import { startServer, type TestServer } from "../helpers/start-server.js";
import type { TempProject } from "../helpers/temp-project.js";
import {
  ADMIN_TOKEN,
  API_TOKEN,
  admin,
  eventLedger,
  forwardProject,
  listRuns,
  postEvent,
} from "./support.js";

/** Enough attempts, each held off a second by Retry-After, that the run is still sending at shutdown. */
const ATTEMPTS = 10;
const FORWARD_FILE = "workflows/forward.yaml";

const REDIS_URL = process.env["REDIS_URL"];
if (!REDIS_URL)
  console.warn("test/e2e/disabled-workflow.test.ts: the redis store is skipped, set REDIS_URL to run it");
const STORES = ["sqlite", ...(REDIS_URL ? ["redis"] : [])];

describe.each(STORES)("an unfinished run of a workflow disabled since, with the %s store", (storeKind) => {
  let sink: Sink;
  let project: TempProject;
  let env: Record<string, string>;
  let redisPrefix: string | undefined;
  const servers: TestServer[] = [];

  beforeEach(async () => {
    sink = await startSink();
    project = await forwardProject(sink, { attempts: ATTEMPTS, timeout: "2s" });
    redisPrefix = storeKind === "redis" ? uniquePrefix("e2e-disabled") : undefined;
    env = {
      INLET_DIR: project.dir,
      INLET_STORE: redisPrefix ? (REDIS_URL ?? "") : `sqlite:${path.join(project.dir, "inlet.db")}`,
      ...(redisPrefix ? { INLET_REDIS_PREFIX: redisPrefix } : {}),
      INLET_ADMIN_TOKEN: ADMIN_TOKEN,
      API_TOKEN,
    };
  });

  afterEach(async () => {
    for (const server of servers.splice(0)) await server.shutdown();
    await sink.close();
    project.cleanup();
    if (REDIS_URL && redisPrefix) await deleteKeys(REDIS_URL, redisPrefix);
  });

  async function serve(): Promise<TestServer> {
    const server = await startServer(env);
    servers.push(server);
    return server;
  }

  async function stop(server: TestServer): Promise<void> {
    servers.splice(servers.indexOf(server), 1);
    await server.shutdown();
  }

  async function reloadWith(server: TestServer, forwardYaml: string): Promise<void> {
    await project.writeAtomically(FORWARD_FILE, forwardYaml);
    expect(await server.reloader.reload("test")).toBe(true);
  }

  it("is failed at the next start without sending, and can be retried once the workflow is enabled again", async () => {
    const ledger = eventLedger(sink, { failing: true });
    const first = await serve();
    const accepted = await postEvent(first.url, { id: "o-1" });
    expect(accepted.status).toBe(200);
    const eventId = accepted.eventId ?? "";
    await eventually(() => expect(ledger.attempted.has(eventId)).toBe(true));

    const enabledYaml = await readFile(path.join(project.dir, FORWARD_FILE), "utf8");
    await reloadWith(first, enabledYaml.replace("id: forward\n", "id: forward\nenabled: false\n"));
    // Shutdown interrupts the run between attempts: it stays unfinished, for the next start.
    await stop(first);
    const callsBefore = sink.calls.length;

    const second = await serve();
    const resumed = await eventually(async () => {
      const run = (await listRuns(second.url, "?workflow=forward")).find((r) => r.eventId === eventId);
      if (!run || run.status === "queued" || run.status === "running") {
        throw new Error(`the run of ${eventId} has not finished: ${JSON.stringify(run)}`);
      }
      return run;
    });
    expect(resumed).toMatchObject({ status: "failed", error: 'workflow "forward" is disabled' });
    expect(sink.calls.length).toBe(callsBefore);

    await reloadWith(second, enabledYaml);
    ledger.setFailing(false);
    const retry = await admin<{ runId: string }>(second.url, `/v1/admin/runs/${resumed.runId}/retry`, {
      method: "POST",
    });
    expect(retry.status).toBe(202);
    const replayed = await eventually(async () => {
      const runs = await listRuns(second.url, "?workflow=forward&status=succeeded");
      const run = runs.find((r) => r.runId === retry.body.runId);
      if (!run) throw new Error(`the retry ${retry.body.runId} has not succeeded`);
      return run;
    });
    expect(replayed.eventId).toBe(eventId);
    expect(ledger.delivered.has(eventId)).toBe(true);
  });
});
