import { once } from "node:events";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "../helpers/eventually.js";
import { deleteKeys, uniquePrefix } from "../helpers/scale.js";
import { memoryLogger } from "../helpers/start-server.js";
import { ENDPOINT_A, integrationYaml, tempProject, type TempProject } from "../helpers/temp-project.js";
import { startRuntime, type Runtime } from "../../src/runtime.js";
import { readSettings } from "../../src/settings.js";

const REDIS_URL = process.env["REDIS_URL"];
if (!REDIS_URL)
  console.warn("test/e2e/start-failure.test.ts: the redis store is skipped, set REDIS_URL to run it");

let project: TempProject | undefined;
let blocker: http.Server | undefined;
let started: Runtime | undefined;
let proxy: CountingProxy | undefined;
let redisPrefix: string | undefined;

afterEach(async () => {
  await started?.shutdown();
  started = undefined;
  if (blocker?.listening) await new Promise((resolve) => blocker?.close(resolve));
  blocker = undefined;
  await proxy?.close();
  proxy = undefined;
  if (REDIS_URL && redisPrefix) await deleteKeys(REDIS_URL, redisPrefix);
  redisPrefix = undefined;
  project?.cleanup();
  project = undefined;
});

/** A port some other server already listens on (bound like the runtime binds, on every address). */
async function occupiedPort(): Promise<number> {
  blocker = http.createServer();
  blocker.listen(0);
  await once(blocker, "listening");
  return (blocker.address() as net.AddressInfo).port;
}

/** The real runtime, configured through the environment users set, on the given port. */
function start(port: number, env: Record<string, string>): Promise<Runtime> {
  const fullEnv = { INLET_WATCH: "false", ...env, PORT: String(port) };
  return startRuntime({
    settings: readSettings(fullEnv),
    env: fullEnv,
    logger: memoryLogger().logger,
    shutdownGraceMs: 1000,
  });
}

function ordersProject(): Promise<TempProject> {
  return tempProject({
    "integrations/orders.yaml": integrationYaml({ id: "orders", endpoint: ENDPOINT_A }),
  });
}

interface CountingProxy {
  readonly url: string;
  /** Connections ever made through the proxy. */
  readonly accepted: () => number;
  /** Client connections still open. */
  readonly open: () => number;
  /** Local ports of every connection the proxy made to Redis: how Redis' CLIENT LIST names them. */
  readonly upstreamPorts: () => readonly number[];
  close(): Promise<void>;
}

/** A TCP proxy to the real Redis that counts the connections made through it. */
async function countingProxy(target: URL): Promise<CountingProxy> {
  const clients = new Set<net.Socket>();
  const upstreams = new Set<net.Socket>();
  const upstreamPorts: number[] = [];
  let accepted = 0;
  const server = net.createServer((client) => {
    accepted += 1;
    const upstream = net.connect(Number(target.port || 6379), target.hostname, () => {
      if (upstream.localPort !== undefined) upstreamPorts.push(upstream.localPort);
    });
    for (const [socket, set] of [
      [client, clients],
      [upstream, upstreams],
    ] as const) {
      set.add(socket);
      socket.on("close", () => {
        set.delete(socket);
        // One side gone: the other goes too, as with a direct connection.
        (socket === client ? upstream : client).destroy();
      });
      socket.on("error", () => socket.destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `redis://127.0.0.1:${port}`,
    accepted: () => accepted,
    open: () => clients.size,
    upstreamPorts: () => upstreamPorts,
    async close() {
      const closed = new Promise((resolve) => server.close(resolve));
      for (const socket of [...clients, ...upstreams]) socket.destroy();
      await closed;
    },
  };
}

/** Client ports of the connections Redis itself lists. */
async function redisClientPorts(url: string): Promise<Set<number>> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    const list = await redis.client("LIST");
    return new Set(
      String(list)
        .split("\n")
        .map((line) => /(?:^| )addr=\S*:(\d+)(?: |$)/.exec(line)?.[1])
        .filter((port) => port !== undefined)
        .map(Number),
    );
  } finally {
    redis.disconnect();
  }
}

describe("a start that fails part way", () => {
  it("rejects with the address-in-use error and releases the SQLite serve claim", async () => {
    project = await ordersProject();
    const storeUrl = `sqlite:${path.join(project.dir, "inlet.db")}`;
    const port = await occupiedPort();

    await expect(start(port, { INLET_DIR: project.dir, INLET_STORE: storeUrl })).rejects.toMatchObject({
      code: "EADDRINUSE",
    });

    // The same file again, in the same process: a claim row left behind would be refused with
    // `store-in-use` (our own pid is alive).
    started = await start(0, { INLET_DIR: project.dir, INLET_STORE: storeUrl });
    expect(started.port).not.toBe(port);
    const health = await fetch(`http://127.0.0.1:${started.port}/healthz`);
    expect(health.status).toBe(200);
  });

  it.skipIf(!REDIS_URL)("with the redis store, leaves no Redis connection open", async () => {
    project = await ordersProject();
    proxy = await countingProxy(new URL(REDIS_URL ?? ""));
    redisPrefix = uniquePrefix("e2e-start-failure");
    const env = { INLET_DIR: project.dir, INLET_STORE: proxy.url, INLET_REDIS_PREFIX: redisPrefix };
    const port = await occupiedPort();

    await expect(start(port, env)).rejects.toMatchObject({ code: "EADDRINUSE" });

    // The store had connected (its JWT secret was read through it) before the port was tried, and
    // the rate limiter's connection was on its way. Time for any connection still on its way to
    // arrive, so "none open" below is not just "none open yet".
    expect(proxy.accepted()).toBeGreaterThanOrEqual(1);
    await sleep(500);
    await eventually(() => expect(proxy?.open()).toBe(0), { timeoutMs: 10_000 });
    // And as Redis sees it: none of the connections made through the proxy is still listed.
    const opened = proxy.upstreamPorts();
    expect(opened.length).toBeGreaterThanOrEqual(1);
    await eventually(
      async () => {
        const listed = await redisClientPorts(REDIS_URL ?? "");
        expect(opened.filter((p) => listed.has(p))).toEqual([]);
      },
      { timeoutMs: 10_000 },
    );

    // A start on a free port works against the same Redis.
    started = await start(0, env);
    expect(started.store.kind).toBe("redis");
  });
});
