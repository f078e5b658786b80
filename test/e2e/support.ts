import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { CLI, spawnServer } from "../helpers/cli.js";
import type { Sink } from "../helpers/sink.js";
import { ENDPOINT_A, integrationYaml, tempProject, type TempProject } from "../helpers/temp-project.js";

export const ADMIN_TOKEN = "e2e-admin-token";
/** The token the workflow sends onward; it must reach the sink and never a run record. */
export const API_TOKEN = "e2e-outgoing-secret-7f3a9c";
export const INCOMING_PATH = `/v1/incoming/${ENDPOINT_A}`;

/**
 * Integration `orders` (deduplicating on body.id) and workflow `forward`, which POSTs the event
 * id, run id and body.id to the sink with the API token as bearer, plus any extra workflow files.
 */
export function forwardProject(
  sink: Sink,
  options: { attempts: number; timeout: string; extraFiles?: Readonly<Record<string, string>> },
): Promise<TempProject> {
  return tempProject({
    "integrations/orders.yaml": integrationYaml({
      id: "orders",
      endpoint: ENDPOINT_A,
      extra: ["dedup:", "  params: [body.id]"].join("\n"),
    }),
    "workflows/forward.yaml": [
      "kind: Workflow",
      "id: forward",
      "trigger: { type: business-event, integration: orders }",
      "nodes:",
      "  - id: send",
      "    type: outgoing-integration",
      "    method: POST",
      `    url: "${sink.url}/events"`,
      "    auth:",
      "      type: bearer",
      '      token: "{{ env.API_TOKEN }}"',
      "    body:",
      '      eventId: "{{ request.eventId }}"',
      '      runId: "{{ run.id }}"',
      '      id: "{{ request.body.id }}"',
      `    timeout: ${options.timeout}`,
      `    retry: { attempts: ${options.attempts} }`,
    ].join("\n"),
    ...options.extraFiles,
  });
}

export interface Accepted {
  readonly status: number;
  readonly eventId: string | undefined;
  readonly headers: Headers;
}

export async function postEvent(
  baseUrl: string,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): Promise<Accepted> {
  const response = await fetch(`${baseUrl}${INCOMING_PATH}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  const eventId = response.status === 200 ? (JSON.parse(text) as { eventId: string }).eventId : undefined;
  return { status: response.status, eventId, headers: response.headers };
}

export interface AdminAnswer<T> {
  readonly status: number;
  readonly text: string;
  readonly body: T;
}

export async function admin<T = unknown>(
  baseUrl: string,
  path: string,
  options: { method?: "GET" | "POST"; token?: string } = {},
): Promise<AdminAnswer<T>> {
  const response = await fetch(`${baseUrl}${path}`, {
    method: options.method ?? "GET",
    headers: { authorization: `Bearer ${options.token ?? ADMIN_TOKEN}` },
  });
  const text = await response.text();
  return { status: response.status, text, body: (text ? JSON.parse(text) : null) as T };
}

/** The fields of SPEC 6 the tests read. */
export interface RunSummary {
  readonly runId: string;
  readonly workflow: string;
  readonly eventId: string;
  readonly status: "queued" | "running" | "succeeded" | "failed";
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly error: string | null;
}

export interface RunDetail extends RunSummary {
  readonly nodes: readonly {
    readonly id: string;
    readonly type: string;
    readonly status: "running" | "succeeded" | "failed";
    readonly attempts: number;
    readonly startedAt: string;
    readonly durationMs: number | null;
    readonly output: unknown;
    readonly error: string | null;
  }[];
}

export async function listRuns(baseUrl: string, query = ""): Promise<RunSummary[]> {
  const answer = await admin<{ runs: RunSummary[] }>(baseUrl, `/v1/admin/runs${query}`);
  if (answer.status !== 200) throw new Error(`GET /v1/admin/runs${query} → ${answer.status}: ${answer.text}`);
  return answer.body.runs;
}

/** Event ids the sink has been called with, and those it answered 200 for; it fails while told to. */
export interface EventLedger {
  readonly attempted: ReadonlySet<string>;
  readonly delivered: ReadonlySet<string>;
  setFailing(failing: boolean): void;
}

/**
 * Makes the sink answer by the event id in the body. While failing it answers 503 with a
 * Retry-After of one second, so a run with many attempts keeps retrying instead of failing.
 */
export function eventLedger(sink: Sink, options: { failing: boolean }): EventLedger {
  const attempted = new Set<string>();
  const delivered = new Set<string>();
  let failing = options.failing;
  sink.respond((call) => {
    const { eventId } = JSON.parse(call.body) as { eventId: string };
    attempted.add(eventId);
    if (failing) return { status: 503, headers: { "Retry-After": "1" } };
    delivered.add(eventId);
    return { status: 200, body: { ok: true } };
  });
  return {
    attempted,
    delivered,
    setFailing(next) {
      failing = next;
    },
  };
}

export interface Served {
  readonly child: ChildProcess;
  readonly url: string;
  readonly output: () => string;
  /** Settles when the process exits, with its exit code or the signal that ended it. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `inlet serve` from the build, as a separate process (so it can be killed like a real one). */
export async function serveProcess(env: Record<string, string>): Promise<Served> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` before the e2e tests`);
  const { child, port, output } = await spawnServer({ INLET_WATCH: "false", ...env });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  return { child, url: `http://127.0.0.1:${port}`, output, exited };
}

/** Ends a process a test started (by its own handle), if it still runs. */
export async function killProcess(served: Served): Promise<void> {
  if (served.child.exitCode === null && served.child.signalCode === null) served.child.kill("SIGKILL");
  await served.exited;
}
