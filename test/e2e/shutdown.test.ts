import { once } from "node:events";
import http from "node:http";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "../helpers/eventually.js";
import { startSink, type Sink, type SinkAnswer } from "../helpers/sink.js";
import { startServer, type TestServer } from "../helpers/start-server.js";
import type { TempProject } from "../helpers/temp-project.js";
import { openStore } from "../../src/store/open-store.js";
import type { RunRecord } from "../../src/store/store.js";
import {
  ADMIN_TOKEN,
  API_TOKEN,
  forwardProject,
  INCOMING_PATH,
  killProcess,
  postEvent,
  serveProcess,
  type Served,
} from "./support.js";

let sink: Sink | undefined;
let project: TempProject | undefined;
let server: TestServer | undefined;
const processes: Served[] = [];

afterEach(async () => {
  await Promise.all(processes.splice(0).map(killProcess));
  await server?.shutdown();
  server = undefined;
  await sink?.close();
  project?.cleanup();
});

/** A receiver that holds its answer until the test lets it go: "slow" without depending on a clock. */
function heldAnswers(target: Sink): { release: () => void; answered: () => boolean } {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let answered = false;
  target.respond(async (): Promise<SinkAnswer> => {
    await gate;
    answered = true;
    return { status: 200, body: { ok: true } };
  });
  return { release: () => release(), answered: () => answered };
}

/** The recorded runs, read straight from the sqlite file a stopped process left behind. */
async function recordedRuns(storeUrl: string): Promise<{ runs: RunRecord[]; unfinished: string[] }> {
  const store = await openStore(storeUrl);
  try {
    const runs = await store.listRuns({ limit: 10 });
    const unfinished = (await store.listUnfinishedRuns()).map((ref) => ref.runId);
    return { runs, unfinished };
  } finally {
    await store.close();
  }
}

/**
 * Starts a POST on a keep-alive connection and sends its body only when told: the request is in
 * flight on the server (it has answered 100 Continue to the headers) for as long as the test wants.
 */
async function requestInFlight(
  baseUrl: string,
  agent: http.Agent,
): Promise<{ finish: () => Promise<{ status: number; connection: string | undefined }> }> {
  const { hostname, port } = new URL(baseUrl);
  const request = http.request({
    hostname,
    port,
    method: "POST",
    path: INCOMING_PATH,
    agent,
    headers: { "content-type": "application/json", "content-length": "2", expect: "100-continue" },
  });
  const response = new Promise<http.IncomingMessage>((resolve, reject) => {
    request.once("response", resolve);
    request.once("error", reject);
  });
  // Awaited in finish(); until then a hang-up must not surface as an unhandled rejection.
  response.catch(() => undefined);
  request.flushHeaders();
  await once(request, "continue");
  return {
    async finish() {
      request.end("{}");
      const answer = await response;
      answer.resume();
      await once(answer, "end");
      return { status: answer.statusCode ?? 0, connection: answer.headers.connection };
    },
  };
}

/** A POST through `agent`, which reuses a kept-alive connection when it has one. */
async function postOn(agent: http.Agent, baseUrl: string): Promise<number> {
  const { hostname, port } = new URL(baseUrl);
  const request = http.request({
    hostname,
    port,
    method: "POST",
    path: INCOMING_PATH,
    agent,
    headers: { "content-type": "application/json" },
  });
  request.end("{}");
  const [answer] = (await once(request, "response")) as [http.IncomingMessage];
  answer.resume();
  return answer.statusCode ?? 0;
}

describe("SIGTERM", () => {
  it("lets a running node finish within the grace period, records the run as succeeded, and exits 0", async () => {
    sink = await startSink();
    const receiver = heldAnswers(sink);
    project = await forwardProject(sink, { attempts: 3, timeout: "10s" });
    const storeUrl = `sqlite:${path.join(project.dir, "inlet.db")}`;
    const served = await serveProcess({
      INLET_DIR: project.dir,
      INLET_STORE: storeUrl,
      INLET_ADMIN_TOKEN: ADMIN_TOKEN,
      API_TOKEN,
    });
    processes.push(served);

    const answer = await postEvent(served.url, { id: "order-1" });
    expect(answer.status).toBe(200);
    // The 200 came back while the workflow's request was still waiting for the receiver.
    expect(receiver.answered()).toBe(false);
    await eventually(() => expect(sink?.calls).toHaveLength(1));

    served.child.kill("SIGTERM");
    await eventually(() => expect(served.output()).toContain("shutting down"));
    // Still running: it waits for the node in flight rather than dropping it.
    expect(served.child.exitCode).toBeNull();
    receiver.release();

    expect(await served.exited).toEqual({ code: 0, signal: null });
    expect(receiver.answered()).toBe(true);
    const { runs, unfinished } = await recordedRuns(storeUrl);
    expect(unfinished).toEqual([]);
    expect(runs).toEqual([
      expect.objectContaining({
        eventId: answer.eventId,
        status: "succeeded",
        nodes: [expect.objectContaining({ id: "send", status: "succeeded", attempts: 1 })],
      }),
    ]);
    expect(sink.calls).toHaveLength(1);
  }, 30_000);

  it("leaves a run whose node outlasts the grace period unfinished, and completes it after a restart", async () => {
    sink = await startSink();
    // The first call never gets an answer; the shutdown's grace period (1 s in tests) runs out.
    heldAnswers(sink);
    project = await forwardProject(sink, { attempts: 3, timeout: "10s" });
    const storeUrl = `sqlite:${path.join(project.dir, "inlet.db")}`;
    const env = { INLET_DIR: project.dir, INLET_STORE: storeUrl, API_TOKEN };
    server = await startServer(env);
    const first = server;

    const answer = await postEvent(first.url, { id: "order-1" });
    expect(answer.status).toBe(200);
    await eventually(() => expect(sink?.calls).toHaveLength(1));
    await first.shutdown();
    server = undefined;

    const stopped = await recordedRuns(storeUrl);
    expect(stopped.runs).toHaveLength(1);
    const runId = stopped.runs[0]?.runId ?? "";
    // Its start and its node's `running` record were in the stopped process's memory only (sqlite-store.ts).
    expect(stopped.runs[0]).toMatchObject({ status: "queued", nodes: [] });
    expect(stopped.unfinished).toEqual([runId]);

    sink.respond(() => ({ status: 200, body: { ok: true } }));
    server = await startServer(env);
    const resumed = server;
    const run = await eventually(async () => {
      const record = await resumed.store.getRun(runId);
      if (record?.status !== "succeeded") throw new Error(`the run is ${record?.status}`);
      return record;
    });
    expect(run.eventId).toBe(answer.eventId);
    expect(run.nodes).toEqual([expect.objectContaining({ id: "send", status: "succeeded", attempts: 1 })]);
    // The interrupted request is sent again: at least once, with the same event id for the receiver to deduplicate on.
    expect(sink.calls.map((call) => (JSON.parse(call.body) as { eventId: string }).eventId)).toEqual([
      answer.eventId,
      answer.eventId,
    ]);
  }, 30_000);

  it("answers a request in flight with Connection: close, accepts nothing more, and exits 0", async () => {
    sink = await startSink();
    project = await forwardProject(sink, { attempts: 1, timeout: "2s" });
    const served = await serveProcess({ INLET_DIR: project.dir, INLET_STORE: "memory:", API_TOKEN });
    processes.push(served);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const inFlight = await requestInFlight(served.url, agent);
      served.child.kill("SIGTERM");
      await eventually(() => expect(served.output()).toContain("shutting down"));

      // A sender with a connection pool must not keep a stopping process alive, or keep feeding it.
      expect(await inFlight.finish()).toEqual({ status: 200, connection: "close" });
      await expect(postOn(agent, served.url)).rejects.toThrow(/ECONNREFUSED/);
      expect(await served.exited).toEqual({ code: 0, signal: null });
    } finally {
      agent.destroy();
    }
  }, 30_000);
});
