import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ADMIN_CLIENT_TIMEOUT_MS } from "../../src/defaults.js";
import { runCli } from "../helpers/cli.js";
import { eventually } from "../helpers/eventually.js";
import { startSink, type Sink } from "../helpers/sink.js";
import { startServer, type TestServer } from "../helpers/start-server.js";
import type { TempProject } from "../helpers/temp-project.js";
import { ADMIN_TOKEN, API_TOKEN, forwardProject, listRuns, postEvent, type RunSummary } from "./support.js";

let sink: Sink;
let project: TempProject;
let server: TestServer;

beforeEach(async () => {
  sink = await startSink();
  project = await forwardProject(sink, { attempts: 1, timeout: "2s" });
  server = await startServer({ INLET_DIR: project.dir, INLET_ADMIN_TOKEN: ADMIN_TOKEN, API_TOKEN });
});

afterEach(async () => {
  await server.shutdown();
  await sink.close();
  project.cleanup();
});

/** The CLI as an operator runs it against a server: INLET_URL and INLET_ADMIN_TOKEN in the environment. */
function inlet(args: readonly string[], env: Record<string, string> = {}) {
  return runCli(args, { env: { INLET_URL: server.url, INLET_ADMIN_TOKEN: ADMIN_TOKEN, ...env } });
}

async function acceptAndFinish(body: unknown): Promise<RunSummary> {
  const answer = await postEvent(server.url, body);
  expect(answer.status).toBe(200);
  return eventually(async () => {
    const run = (await listRuns(server.url)).find((r) => r.eventId === answer.eventId);
    if (!run || run.status === "queued" || run.status === "running") throw new Error("not finished yet");
    return run;
  });
}

describe("inlet runs", () => {
  it("lists runs newest first, one line each with status and error, and filters by status", async () => {
    const ok = await acceptAndFinish({ id: "o-1" });
    sink.respond(() => ({ status: 400, body: { error: "bad customer" } }));
    const failed = await acceptAndFinish({ id: "o-2" });

    const all = await inlet(["runs"]);
    expect(all.code).toBe(0);
    const lines = all.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^${failed.runId}\\s+failed\\s+forward\\s.*400`));
    expect(lines[1]).toMatch(new RegExp(`^${ok.runId}\\s+succeeded\\s+forward\\s`));

    const onlyFailed = await inlet(["runs", "--status", "failed"]);
    expect(onlyFailed.stdout.trimEnd().split("\n")).toEqual([lines[0]]);

    const json = await inlet(["runs", "--workflow", "forward", "--json"]);
    const parsed = JSON.parse(json.stdout) as { runs: RunSummary[] };
    expect(parsed.runs.map((run) => run.runId)).toEqual([failed.runId, ok.runId]);
  });

  it("retries a failed run: `runs retry` queues a new run that succeeds once the receiver is fixed", async () => {
    sink.respond(() => ({ status: 400, body: { error: "bad customer" } }));
    const failed = await acceptAndFinish({ id: "o-1" });
    expect(failed.status).toBe("failed");
    sink.respond(() => ({ status: 200, body: { ok: true } }));

    const result = await inlet(["runs", "retry", failed.runId]);
    expect(result.code).toBe(0);
    const match = /^queued run (\S+)$/m.exec(result.stdout);
    expect(match).not.toBeNull();
    const newRunId = match?.[1] ?? "";
    expect(newRunId).not.toBe(failed.runId);

    await eventually(async () => {
      const show = await inlet(["runs", "show", newRunId]);
      const run = JSON.parse(show.stdout) as RunSummary;
      expect(run).toMatchObject({ runId: newRunId, eventId: failed.eventId, status: "succeeded" });
    });

    const again = await inlet(["runs", "retry", newRunId]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/409/);
  });

  it("says what is wrong with a wrong admin token or an unreachable server, with a non-zero exit", async () => {
    const wrongToken = await inlet(["runs"], { INLET_ADMIN_TOKEN: "not-the-token" });
    expect(wrongToken.code).not.toBe(0);
    expect(wrongToken.stderr).toMatch(/401/);

    const unreachable = await inlet(["runs"], { INLET_URL: "http://127.0.0.1:1" });
    expect(unreachable.code).not.toBe(0);
    expect(unreachable.stderr).toMatch(/cannot reach http:\/\/127\.0\.0\.1:1/);
  });
});

describe("inlet runs: the server it talks to", () => {
  it("`runs show` and `runs retry` go to the server --url names, wherever it is written", async () => {
    sink.respond(() => ({ status: 400, body: { error: "bad customer" } }));
    const failed = await acceptAndFinish({ id: "o-1" });
    const elsewhere = { INLET_URL: "http://127.0.0.1:1" };
    const show = await inlet(["runs", "show", failed.runId, "--url", server.url], elsewhere);
    expect(show.stderr).toBe("");
    expect(JSON.parse(show.stdout)).toMatchObject({ runId: failed.runId, status: "failed" });
    const retry = await inlet(["runs", "--url", server.url, "retry", failed.runId], elsewhere);
    expect(retry.stdout).toMatch(/^queued run \S+$/m);
  });

  /** A local server standing for what --url may wrongly point at. */
  async function impostor(
    handler: http.RequestListener,
  ): Promise<{ url: string; close: () => Promise<void> }> {
    const other = http.createServer(handler);
    await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
    return {
      url: `http://127.0.0.1:${(other.address() as AddressInfo).port}`,
      close: () => {
        other.closeAllConnections();
        return new Promise((resolve) => other.close(() => resolve()));
      },
    };
  }

  it("says so, in one line, when the server answers a page that is not JSON", async () => {
    const page = await impostor((_req, res) => res.end("<html>log in</html>"));
    try {
      const result = await inlet(["runs"], { INLET_URL: page.url });
      expect(result.code).toBe(2);
      expect(result.stderr).toBe(`inlet: ${page.url} did not answer JSON: is --url an inlet server?\n`);
    } finally {
      await page.close();
    }
  });

  it(
    "gives up on a server that takes the connection and never answers",
    async () => {
      const silent = await impostor(() => undefined);
      try {
        const result = await inlet(["runs"], { INLET_URL: silent.url });
        expect(result.code).toBe(2);
        expect(result.stderr).toMatch(/did not answer within \d+ s/);
      } finally {
        await silent.close();
      }
    },
    ADMIN_CLIENT_TIMEOUT_MS + 20_000,
  );
});

describe("inlet samples", () => {
  it("prints the kept requests flattened, newest first, with the Authorization header redacted", async () => {
    const first = await postEvent(server.url, { id: "o-1", items: [{ sku: "A" }] });
    const second = await postEvent(
      server.url,
      { id: "o-2", "a.b": true },
      { "X-Request-ID": "r-2", Authorization: "Bearer sender-secret" },
    );

    const result = await inlet(["samples", "orders"]);
    expect(result.code).toBe(0);
    const out = result.stdout;
    expect(out.indexOf(`event ${second.eventId}`)).toBeLessThan(out.indexOf(`event ${first.eventId}`));
    expect(out.indexOf(`event ${first.eventId}`)).toBeGreaterThan(-1);
    const lines = out.split("\n");
    expect(lines).toContain("body.id = o-2");
    expect(lines).toContain('body["a.b"] = true');
    expect(lines).toContain("headers.x-request-id = r-2");
    expect(lines).toContain("body.items.0.sku = A");
    expect(out).not.toContain("sender-secret");

    const unknown = await inlet(["samples", "no-such-integration"]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/404/);
  });
});
