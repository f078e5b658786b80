import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { RUN_THROTTLE_MAX_PAUSE_MS } from "../../src/defaults.js";
import { createRunThrottle, IngressLoad } from "../../src/engine/run-throttle.js";

/**
 * For `ms`, keeps this event loop busy `busyMs` at a time with requests arriving, as an ingress
 * does, and lets it `rest` in between: an immediate keeps it saturated, a timer lets it idle.
 */
async function senders(
  load: IngressLoad,
  ms: number,
  busyMs: number,
  rest: () => Promise<unknown>,
): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const slice = Date.now() + busyMs;
    while (Date.now() < slice) load.note();
    await rest();
  }
}

/** Keeps this event loop saturated for `ms` while requests keep arriving, as a flooded ingress does. */
function saturate(load: IngressLoad, ms: number): Promise<void> {
  return senders(load, ms, 20, () => new Promise((resolve) => setImmediate(resolve)));
}

function watch(canPause: boolean) {
  const load = new IngressLoad();
  const limits: number[] = [];
  /** When each change came (performance.now()). */
  const times: number[] = [];
  const throttle = createRunThrottle({
    concurrency: 10,
    load,
    canPause,
    onChange: (limit) => {
      limits.push(limit);
      times.push(performance.now());
    },
  });
  return { load, limits, times, throttle };
}

describe("the run throttle", () => {
  it("pauses the embedded runner while the ingress saturates the loop, and lets the floor run after the longest pause", async () => {
    const { load, limits, throttle } = watch(true);
    try {
      await saturate(load, RUN_THROTTLE_MAX_PAUSE_MS + 1000);
      // Paused; the floor (1 of 10) runs once the pause is long enough, then it pauses again.
      expect(limits.slice(0, 3)).toEqual([0, 1, 0]);
      await sleep(400);
      expect(throttle.limit).toBeGreaterThan(0);
      expect(limits.at(-1)).toBe(throttle.limit);
    } finally {
      throttle.stop();
    }
  });

  it("gives runs their concurrency back when a pause shows the loop was busy with runs, not senders", async () => {
    const { load, limits, times, throttle } = watch(true);
    try {
      // Requests trickle in; the loop is saturated only while runs may start, as runs keep it.
      const end = Date.now() + RUN_THROTTLE_MAX_PAUSE_MS + 1500;
      while (Date.now() < end) {
        load.note();
        if (throttle.limit > 0) {
          const slice = Date.now() + 20;
          while (Date.now() < slice);
        }
        await sleep(throttle.limit > 0 ? 0 : 20);
      }
      const paused = limits.indexOf(0);
      expect(limits.slice(0, paused + 2)).toEqual([0, 10]);
      // The busy loop is the runs' for the next RUN_THROTTLE_MAX_PAUSE_MS: they keep all 10 that long.
      expect(times[paused + 2]! - times[paused + 1]!).toBeGreaterThanOrEqual(RUN_THROTTLE_MAX_PAUSE_MS);
    } finally {
      throttle.stop();
    }
  });

  it("does not give runs their concurrency back when a pause shows senders that only slowed for a moment", async () => {
    const { load, limits, throttle } = watch(true);
    try {
      await saturate(load, 300);
      expect(limits).toEqual([0]);
      // Requests keep arriving, and the senders alone keep the loop about four fifths busy.
      await senders(load, 300, 15, () => sleep(3));
      expect(limits).not.toContain(10);
    } finally {
      throttle.stop();
    }
  });

  it("keeps runs paused while the loop idles only because the store waits for its write lock", async () => {
    const { load, limits, throttle } = watch(true);
    try {
      await saturate(load, 300);
      expect(limits).toEqual([0]);
      // Senders keep arriving, and every idle moment is the store waiting for the checkpoint thread's lock.
      const end = Date.now() + 400;
      while (Date.now() < end) {
        load.note();
        const started = performance.now();
        await sleep(5);
        load.noteStoreWait(performance.now() - started);
      }
      expect(limits).toEqual([0]);
    } finally {
      throttle.stop();
    }
  });

  it("keeps the floor for BullMQ's worker, which cannot run at concurrency 0", async () => {
    const { load, limits, throttle } = watch(false);
    try {
      await saturate(load, 800);
      expect(limits).toEqual([5, 2, 1]);
    } finally {
      throttle.stop();
    }
  });
});
