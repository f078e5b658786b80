import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { startSweeper, type Sweeper } from "../../src/dedup/sweeper.js";
import { openStore } from "../../src/store/open-store.js";
import type { Store } from "../../src/store/store.js";
import { makeEvent, testHash } from "../store/conformance.js";

const claim = (store: Store, hash: string, ttlMs: number) =>
  store.accept({
    event: makeEvent(),
    dedup: { scope: "shop-cart", hash: testHash(hash), ttlMs },
    workflows: [],
  });

describe("dedup sweeper", () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function start(options: Omit<Parameters<typeof startSweeper>[0], "store">) {
    const store = await openStore("memory:", {});
    cleanup.push(() => store.close());
    const sweeper: Sweeper = startSweeper({ store, ...options });
    cleanup.push(() => sweeper.stop());
    return { store, sweeper };
  }

  it("removes expired keys and keeps live ones", async () => {
    const swept: number[] = [];
    const { store, sweeper } = await start({ onSwept: (count) => swept.push(count) });
    await claim(store, "short-1", 50);
    await claim(store, "short-2", 50);
    await claim(store, "long", 60_000);
    await sleep(150);
    expect(await sweeper.sweepNow()).toBe(2);
    expect(await sweeper.sweepNow()).toBe(0);
    expect(swept).toEqual([2, 0]);
    expect((await claim(store, "long", 60_000)).outcome).toBe("duplicate");
  });

  it("sweeps on its cron schedule until stopped", async () => {
    const swept: number[] = [];
    const { store, sweeper } = await start({
      schedule: "* * * * * *",
      onSwept: (count) => swept.push(count),
    });
    await claim(store, randomUUID(), 1);
    await waitFor(() => swept.some((count) => count === 1));
    sweeper.stop();
    const runs = swept.length;
    await sleep(1500);
    expect(swept).toHaveLength(runs);
  });

  it("reports a failed scheduled sweep through onError", async () => {
    const errors: unknown[] = [];
    const { store } = await start({ schedule: "* * * * * *", onError: (error) => errors.push(error) });
    await store.close();
    await waitFor(() => errors.length > 0);
    expect(errors[0]).toMatchObject({ code: "store-unavailable" });
  });

  it("refuses an invalid cron expression", async () => {
    await expect(start({ schedule: "every five minutes" })).rejects.toThrow();
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let attempt = 0; !condition(); attempt++) {
    if (attempt >= 100) throw new Error("condition not met");
    await sleep(50);
  }
}
