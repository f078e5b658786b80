import { randomUUID } from "node:crypto";
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { StoreUnavailableError } from "../../src/errors.js";
import { openStore } from "../../src/store/open-store.js";
import type { Store } from "../../src/store/store.js";
import { describeStoreConformance, makeEvent, testHash } from "./conformance.js";

const REDIS_URL = process.env.REDIS_URL;
const runPrefix = `inlet-test:${randomUUID()}:`;
let stores = 0;
const nextPrefix = () => `${runPrefix}${++stores}:`;

if (!REDIS_URL) console.warn("REDIS_URL is not set: the Redis store tests are skipped.");

/** A loopback port with nothing listening on it (a Redis that is down). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A TCP proxy to the real Redis that can be started and stopped, to take "Redis" down and up. */
function redisProxy(target: URL, port: number) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 6379), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => socket.destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  return {
    start: () => new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve)),
    stop: async () => {
      if (!server.listening) return;
      const closed = new Promise((resolve) => server.close(resolve));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

async function eventually(check: () => Promise<void>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await check();
      return;
    } catch (error) {
      if (attempt >= 100) throw error;
      await sleep(100);
    }
  }
}

describe.skipIf(!REDIS_URL)("redis store", () => {
  afterAll(async () => {
    const redis = new Redis(REDIS_URL ?? "");
    try {
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", `${runPrefix}*`, "COUNT", 1000);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== "0");
    } finally {
      await redis.quit();
    }
  });

  describeStoreConformance("redis://", (tuning) =>
    openStore(REDIS_URL ?? "", { ...tuning, redisPrefix: nextPrefix() }),
  );

  it("keeps every key under its prefix", async () => {
    const prefix = nextPrefix();
    const store = await openStore(REDIS_URL ?? "", { redisPrefix: prefix });
    const redis = new Redis(REDIS_URL ?? "");
    try {
      await store.accept({
        event: makeEvent(),
        dedup: { scope: "s", hash: testHash("h"), ttlMs: 60_000 },
        workflows: ["wf"],
      });
      await store.addSample(
        "s",
        {
          eventId: "e",
          receivedAt: "",
          request: { method: "POST", headers: {}, query: {}, body: {} },
          flattened: {},
        },
        5,
      );
      await store.getOrCreateSecret("jwt", () => "x");
      const keys = await redis.keys(`${prefix}*`);
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.every((key) => key.startsWith(prefix))).toBe(true);
    } finally {
      await redis.quit();
      await store.close();
    }
  });

  it("fails fast while Redis is down, reports it once, and recovers without a restart", async () => {
    const port = await freePort();
    const proxy = redisProxy(new URL(REDIS_URL ?? ""), port);
    const errors: Error[] = [];
    const store: Store = await openStore(`redis://127.0.0.1:${port}`, {
      redisPrefix: nextPrefix(),
      onError: (error) => errors.push(error),
    });
    try {
      await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
      await sleep(1000); // several reconnect attempts happen meanwhile
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(StoreUnavailableError);

      await proxy.start();
      await eventually(() => store.ping());
      const outcome = await store.accept({ event: makeEvent(), dedup: null, workflows: ["wf"] });
      expect(outcome.outcome).toBe("accepted");

      await proxy.stop();
      await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
      await eventually(async () => expect(errors).toHaveLength(2));
    } finally {
      await store.close();
      await proxy.stop();
    }
  });
});

describe("redis store with nothing listening", () => {
  it("opens anyway, and ping and accept reject with StoreUnavailableError instead of hanging", async () => {
    const port = await freePort();
    const store = await openStore(`redis://127.0.0.1:${port}`, { redisPrefix: `${runPrefix}down:` });
    try {
      await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(
        store.accept({ event: makeEvent(), dedup: null, workflows: ["wf"] }),
      ).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.getRun(randomUUID())).rejects.toMatchObject({ code: "store-unavailable" });
    } finally {
      await store.close();
    }
  });
});
