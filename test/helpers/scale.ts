import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { CLI, spawnServer } from "./cli.js";
import { eventually } from "./eventually.js";
import type { Sink } from "./sink.js";
import { ENDPOINT_A, integrationYaml, tempProject, type TempProject } from "./temp-project.js";

/** The shared Redis of the scale tests; they are skipped (with a message) when it is unset. */
export const REDIS_URL = process.env["REDIS_URL"];
export const JWT_SECRET = "scale-tests-jwt-secret-0123456789abcdef";
const SCAN_BATCH = 500;

export function reportSkippedWithoutRedis(suite: string): void {
  if (!REDIS_URL) console.warn(`${suite}: skipped, set REDIS_URL=redis://127.0.0.1:6379 to run them`);
}

/** The built CLI is what these tests start; `npm test` builds it first. */
export function assertBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` before the scale tests`);
}

/** A key prefix of our own, so the tests share a Redis with anything else without touching it. */
export function uniquePrefix(label: string): string {
  return `inlet-test:${label}:${randomUUID().slice(0, 8)}:`;
}

/** Deletes the keys under `prefix` only (SCAN + DEL, never FLUSHDB). */
export async function deleteKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", SCAN_BATCH);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}

/**
 * A config with one integration (deduplicating on body.id) whose workflow posts the event id to
 * the sink, retrying long enough that runs are still in progress while the sink fails.
 */
export async function sinkProject(sink: Sink): Promise<TempProject> {
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
      "    body:",
      '      eventId: "{{ request.eventId }}"',
      '      id: "{{ request.body.id }}"',
      "    timeout: 2s",
      "    retry: { attempts: 10 }",
    ].join("\n"),
  });
}

export const INCOMING_PATH = `/v1/incoming/${ENDPOINT_A}`;

/**
 * Seconds the failing sink asks for in Retry-After: runs keep retrying (10 attempts) for longer
 * than an instance's shutdown grace period, so they are still in progress when it stops.
 */
const SINK_RETRY_AFTER_S = 5;

export interface EventSink {
  /** Event ids the sink has been called with, answered or not. */
  readonly attempted: ReadonlySet<string>;
  /** Event ids the sink answered 200 for. */
  readonly delivered: ReadonlySet<string>;
  /** While failing, every call gets 503 + Retry-After. */
  setFailing(failing: boolean): void;
}

/** Makes the sink answer by event id, and records which events were attempted and delivered. */
export function eventSink(sink: Sink): EventSink {
  const attempted = new Set<string>();
  const delivered = new Set<string>();
  let failing = false;
  sink.respond((call) => {
    const { eventId } = JSON.parse(call.body) as { eventId: string };
    attempted.add(eventId);
    if (failing) return { status: 503, headers: { "Retry-After": String(SINK_RETRY_AFTER_S) } };
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

export interface Instance {
  readonly child: ChildProcess;
  readonly url: string;
  readonly output: () => string;
  /** SIGTERM, and waits for the exit. */
  stop(): Promise<void>;
  /** SIGKILL: no shutdown at all, as when a machine dies. */
  kill(): Promise<void>;
}

/** `inlet serve` as a separate process against Redis, as a user runs one of several instances. */
export async function startInstance(options: {
  project: TempProject;
  redisUrl: string;
  prefix: string;
  env?: Record<string, string>;
}): Promise<Instance> {
  assertBuilt();
  const { child, port, output } = await spawnServer({
    INLET_DIR: options.project.dir,
    INLET_STORE: options.redisUrl,
    INLET_REDIS_PREFIX: options.prefix,
    INLET_JWT_SECRET: JWT_SECRET,
    INLET_WATCH: "false",
    LOG_LEVEL: "info",
    ...options.env,
  });
  const exited = once(child, "exit");
  const end = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    output,
    stop: () => end("SIGTERM"),
    kill: () => end("SIGKILL"),
  };
}

export interface Answer {
  readonly status: number;
  readonly eventId?: string;
  readonly duplicateOf: string | null;
  readonly retryAfter: string | null;
}

export async function post(baseUrl: string, body: unknown): Promise<Answer> {
  const response = await fetch(`${baseUrl}${INCOMING_PATH}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    eventId: response.status === 200 ? (JSON.parse(text) as { eventId: string }).eventId : undefined,
    duplicateOf: response.headers.get("inlet-duplicate-of"),
    retryAfter: response.headers.get("retry-after"),
  };
}

export async function waitReady(baseUrl: string, timeoutMs: number): Promise<void> {
  await eventually(
    async () => {
      const response = await fetch(`${baseUrl}/readyz`);
      if (response.status !== 200) throw new Error(`/readyz answered ${response.status}`);
    },
    { timeoutMs, intervalMs: 200 },
  );
}

export interface PrivateRedis {
  readonly url: string;
  readonly running: boolean;
  start(): Promise<void>;
  /** SHUTDOWN SAVE: the data comes back with the next start, as with a persistent Redis. */
  stop(): Promise<void>;
  cleanup(): Promise<void>;
}

/**
 * A redis-server of the test's own on a free port (never the shared one), without periodic saves
 * or AOF; `stop` saves once on shutdown, in a temp dir, so a restart keeps what was accepted.
 */
export async function privateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), "inlet-redis-"));
  const url = `redis://127.0.0.1:${port}`;
  let server: ChildProcess | undefined;
  const control = {
    url,
    get running() {
      return server !== undefined;
    },
    async start() {
      const started = spawn(
        "redis-server",
        ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
        { stdio: "ignore" },
      );
      server = started;
      await eventually(
        async () => {
          const probe = new Redis(url, {
            lazyConnect: true,
            maxRetriesPerRequest: 0,
            retryStrategy: () => null,
          });
          // A refused connection is reported by connect() below; the event would only repeat it.
          probe.on("error", () => undefined);
          try {
            await probe.connect();
            await probe.ping();
          } finally {
            probe.disconnect();
          }
        },
        { timeoutMs: 10_000, intervalMs: 50 },
      );
    },
    async stop() {
      const running = server;
      if (!running) return;
      server = undefined;
      const exited = once(running, "exit");
      const admin = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
      // A successful SHUTDOWN closes the connection instead of answering; the exit is what counts.
      await admin.call("SHUTDOWN", "SAVE").catch((error: unknown) => error);
      admin.disconnect();
      await exited;
    },
    async cleanup() {
      await control.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return control;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
