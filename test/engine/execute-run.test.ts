import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { WorkflowDoc } from "../../src/config/documents.js";
import { compileWorkflow, type CompiledWorkflow } from "../../src/engine/compile-workflow.js";
import { executeRun, type ExecuteRunOptions } from "../../src/engine/execute-run.js";
import type { IncomingEvent } from "../../src/ingest/event.js";
import { createHttpTransport } from "../../src/nodes/http-transport.js";
import { builtinRegistry } from "../../src/nodes/registry.js";
import type { NodeRecord } from "../../src/store/store.js";
import { startSink, type Sink } from "../helpers/sink.js";

let sink: Sink;
const http = createHttpTransport({ denyPrivate: false });

beforeAll(async () => {
  sink = await startSink();
});
afterAll(async () => {
  await sink.close();
});
beforeEach(() => {
  (sink.calls as unknown[]).length = 0;
  sink.respond(() => ({ status: 200, body: { ok: true } }));
});

function workflowFromYaml(nodes: string, options: { strict?: boolean } = {}): CompiledWorkflow {
  const text = `
kind: Workflow
id: test-flow
strict: ${options.strict ?? false}
trigger: { type: business-event, integration: shop-cart }
nodes:
${nodes}`;
  return compileWorkflow(parse(text) as WorkflowDoc, { registry: builtinRegistry });
}

function event(body: unknown = {}): IncomingEvent {
  return {
    eventId: "ev-1",
    integration: "shop-cart",
    endpointId: "3f0c2a8e-6c1d-4f4e-9a4b-2a4f8c1d9e11",
    method: "POST",
    time: Date.now(),
    headers: {},
    query: {},
    body,
  };
}

async function run(workflow: CompiledWorkflow, options: Partial<ExecuteRunOptions> = {}) {
  const records: NodeRecord[] = [];
  const waits: number[] = [];
  const outcome = await executeRun({
    workflow,
    event: event(),
    runId: "run-1",
    http,
    env: { SINK: sink.url },
    signal: new AbortController().signal,
    onNode: async (record) => {
      records.push(record);
    },
    sleep: async (ms) => {
      waits.push(ms);
    },
    ...options,
  });
  const final = (id: string) =>
    records.filter((record) => record.id === id && record.status !== "running").at(-1);
  return { outcome, records, waits, final };
}

const paths = () => sink.calls.map((call) => `${call.method} ${call.url}`);

describe("the walk", () => {
  it("runs the nodes in list order without next, records each node, and ends after the last", async () => {
    const workflow = workflowFromYaml(`
  - id: first
    type: outgoing-integration
    method: POST
    url: "{{ env.SINK }}/first"
    body: { n: 1 }
  - id: second
    type: outgoing-integration
    method: PUT
    url: "{{ env.SINK }}/second"
`);
    const { outcome, records } = await run(workflow);
    expect(outcome).toEqual({ status: "succeeded", error: null, vars: {} });
    expect(paths()).toEqual(["POST /first", "PUT /second"]);
    expect(records.map((record) => [record.id, record.status])).toEqual([
      ["first", "running"],
      ["first", "succeeded"],
      ["second", "running"],
      ["second", "succeeded"],
    ]);
    expect(records[1]).toMatchObject({ type: "outgoing-integration", attempts: 1, error: null });
    expect(records[1]?.durationMs).toEqual(expect.any(Number));
    expect(records[1]?.output).toMatchObject({
      request: { method: "POST", url: `${sink.url}/first`, body: { n: 1 } },
      response: { status: 200, body: { ok: true } },
    });
  });

  it("runs a list in next as parallel branches", async () => {
    // /a is answered only once /b has arrived, so the run can only finish if both are in flight together.
    let releaseA: () => void = () => {};
    const bArrived = new Promise<void>((resolve) => {
      releaseA = resolve;
    });
    sink.respond((call) => {
      if (call.url === "/a") return bArrived.then(() => ({ status: 200, body: { branch: "a" } }));
      releaseA();
      return { status: 200, body: { branch: "b" } };
    });
    const workflow = workflowFromYaml(`
  - id: start
    type: set
    values: { who: someone }
    next: [a, b]
  - id: a
    type: outgoing-integration
    method: POST
    url: "{{ env.SINK }}/a"
    timeout: 5s
    next: join
  - id: b
    type: outgoing-integration
    method: POST
    url: "{{ env.SINK }}/b"
    next: join
  - id: join
    type: set
    values: { done: "{{ vars.who }}" }
`);
    const { outcome, records } = await run(workflow);
    expect(outcome.status).toBe("succeeded");
    expect(paths().sort()).toEqual(["POST /a", "POST /b"]);
    expect(outcome.vars).toEqual({ who: "someone", done: "someone" });
    // Where branches join, the node runs once.
    expect(records.filter((record) => record.id === "join" && record.status === "succeeded")).toHaveLength(1);
  });

  it("fails the run when a branch fails, lets the other branch finish, and skips the failed branch's successors", async () => {
    sink.respond((call) =>
      call.url === "/bad" ? { status: 400, body: { error: "nope" } } : { status: 200 },
    );
    const branching = workflowFromYaml(`
  - id: start
    type: set
    values: { x: 1 }
    next: [bad, good]
  - id: bad
    type: outgoing-integration
    method: POST
    url: "{{ env.SINK }}/bad"
    next: after-bad
  - id: after-bad
    type: outgoing-integration
    method: POST
    url: "{{ env.SINK }}/after-bad"
    next: finish
  - id: good
    type: outgoing-integration
    method: POST
    url: "{{ env.SINK }}/good"
    next: finish
  - id: finish
    type: end
`);
    const { outcome, final } = await run(branching);
    expect(outcome.status).toBe("failed");
    expect(outcome.error).toMatch(/^node bad: .*400/);
    expect(paths().sort()).toEqual(["POST /bad", "POST /good"]);
    expect(final("bad")).toMatchObject({ status: "failed", attempts: 1 });
    expect(final("good")).toMatchObject({ status: "succeeded" });
    expect(final("after-bad")).toBeUndefined();
  });

  it("exposes a response's JSON to later nodes as nodes.<id>.response.body", async () => {
    sink.respond((call) =>
      call.url === "/login" ? { status: 201, body: { token: "tok-1", ids: [1, 2] } } : { status: 200 },
    );
    const workflow = workflowFromYaml(`
  - id: login
    type: outgoing-integration
    method: POST
    url: "{{ env.SINK }}/login"
  - id: use
    type: outgoing-integration
    method: POST
    url: "{{ env.SINK }}/use?status={{ nodes.login.response.status }}"
    auth: { type: bearer, token: "{{ nodes.login.response.body.token }}" }
    body: { ids: "{{ nodes.login.response.body.ids }}" }
`);
    const { outcome } = await run(workflow);
    expect(outcome.status).toBe("succeeded");
    expect(sink.calls[1]).toMatchObject({
      url: "/use?status=201",
      headers: { authorization: "Bearer tok-1" },
    });
    expect(JSON.parse(sink.calls[1]!.body)).toEqual({ ids: [1, 2] });
  });
});

describe("retries", () => {
  const oneCall = (extra = "") =>
    workflowFromYaml(`
  - id: call
    type: outgoing-integration
    method: POST
    url: "{{ env.SINK }}/call"
${extra}`);

  it("retries 503, 503 and succeeds on 200 with three calls", async () => {
    sink.respond((_call, index) =>
      index < 2 ? { status: 503, body: "busy" } : { status: 200, body: { ok: 1 } },
    );
    const { outcome, final, waits } = await run(oneCall());
    expect(outcome.status).toBe("succeeded");
    expect(sink.calls).toHaveLength(3);
    expect(final("call")).toMatchObject({ status: "succeeded", attempts: 3 });
    expect(waits).toHaveLength(2);
  });

  it("does not retry a permanent 400 and names the status in the error", async () => {
    sink.respond(() => ({ status: 400, body: { error: "email is invalid" } }));
    const { outcome, final } = await run(oneCall());
    expect(outcome.status).toBe("failed");
    expect(sink.calls).toHaveLength(1);
    expect(outcome.error).toContain("400");
    expect(outcome.error).toContain("email is invalid");
    expect(final("call")).toMatchObject({ status: "failed", attempts: 1, output: null });
  });

  it("gives up after the configured attempts", async () => {
    sink.respond(() => ({ status: 500 }));
    const { outcome, final } = await run(oneCall("    retry: { attempts: 2 }"));
    expect(outcome.status).toBe("failed");
    expect(sink.calls).toHaveLength(2);
    expect(final("call")).toMatchObject({ status: "failed", attempts: 2 });
  });

  it("waits as long as a Retry-After asks", async () => {
    sink.respond((_call, index) =>
      index === 0 ? { status: 429, headers: { "retry-after": "2" } } : { status: 200 },
    );
    const { outcome, waits } = await run(oneCall());
    expect(outcome.status).toBe("succeeded");
    expect(waits).toEqual([2000]);
  });

  it("times out a receiver that never answers, and retries it", async () => {
    sink.respond(() => "hang");
    const { outcome, final } = await run(oneCall("    timeout: 200ms\n    retry: { attempts: 2 }"));
    expect(outcome.status).toBe("failed");
    expect(outcome.error).toMatch(/within 200 ms/);
    expect(sink.calls).toHaveLength(2);
    expect(final("call")).toMatchObject({ status: "failed", attempts: 2 });
  });

  it("retries a refused connection", async () => {
    const closed = await startSink();
    await closed.close();
    const workflow = workflowFromYaml(`
  - id: call
    type: outgoing-integration
    method: POST
    url: "${closed.url}/x"
`);
    const { outcome, final } = await run(workflow);
    expect(outcome.status).toBe("failed");
    expect(final("call")).toMatchObject({ attempts: 3 });
    expect(outcome.error).toMatch(/ECONNREFUSED/);
  });
});

describe("resume and interruption", () => {
  const workflow = () =>
    workflowFromYaml(`
  - id: login
    type: outgoing-integration
    method: POST
    url: "{{ env.SINK }}/login"
    next: plan
  - id: plan
    type: set
    values: { plan: pro }
    next: pick
  - id: pick
    type: condition
    if: vars.plan == 'pro'
    then: send
    else: skip
  - id: skip
    type: end
  - id: send
    type: outgoing-integration
    method: POST
    url: "{{ env.SINK }}/send"
    body: { token: "{{ nodes.login.response.body.token }}", plan: "{{ vars.plan }}" }
`);

  it("does not run again a node that already succeeded, and restores its output, vars and branch", async () => {
    const done = (id: string, type: string, output: unknown): NodeRecord => ({
      id,
      type,
      status: "succeeded",
      attempts: 1,
      startedAt: new Date().toISOString(),
      durationMs: 5,
      output,
      error: null,
    });
    const previous: NodeRecord[] = [
      done("login", "outgoing-integration", {
        request: {},
        response: { status: 200, headers: {}, body: { token: "t9" } },
      }),
      done("plan", "set", { plan: "pro" }),
      done("pick", "condition", { result: true, next: ["send"] }),
      { ...done("send", "outgoing-integration", null), status: "running", durationMs: null },
    ];
    const { outcome, records } = await run(workflow(), { previous });
    expect(outcome).toMatchObject({ status: "succeeded", vars: { plan: "pro" } });
    expect(paths()).toEqual(["POST /send"]);
    expect(JSON.parse(sink.calls[0]!.body)).toEqual({ token: "t9", plan: "pro" });
    expect(records.map((record) => record.id)).toEqual(["send", "send"]);
  });

  it("stops at an abort during a backoff and leaves the node unrecorded as failed", async () => {
    sink.respond(() => ({ status: 503 }));
    const controller = new AbortController();
    const { outcome, records } = await run(workflow(), {
      signal: controller.signal,
      sleep: async () => {
        controller.abort();
      },
    });
    expect(outcome.status).toBe("interrupted");
    expect(sink.calls).toHaveLength(1);
    expect(records.map((record) => record.status)).toEqual(["running"]);
  });

  it("starts nothing when already aborted", async () => {
    const controller = new AbortController();
    controller.abort();
    const { outcome, records } = await run(workflow(), { signal: controller.signal });
    expect(outcome.status).toBe("interrupted");
    expect(records).toEqual([]);
    expect(sink.calls).toHaveLength(0);
  });

  it("aborts a request in flight on shutdown and reports the run interrupted", async () => {
    const controller = new AbortController();
    sink.respond(() => {
      controller.abort();
      return "hang";
    });
    const { outcome } = await run(workflow(), { signal: controller.signal });
    expect(outcome.status).toBe("interrupted");
  });
});
