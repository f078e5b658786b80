import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { RUN_THROTTLE_MAX_PAUSE_MS } from "../../src/defaults.js";
import { createRunThrottle, IngressLoad } from "../../src/engine/run-throttle.js";

/** Keeps this event loop saturated for `ms` while requests keep arriving, as a flooded ingress does. */
async function saturate(load: IngressLoad, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const slice = Date.now() + 20;
    while (Date.now() < slice) load.note();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function watch(canPause: boolean) {
  const load = new IngressLoad();
  const limits: number[] = [];
  const throttle = createRunThrottle({
    concurrency: 10,
    load,
    canPause,
    onChange: (limit) => limits.push(limit),
  });
  return { load, limits, throttle };
}

describe("the run throttle", () => {
  it("pauses the embedded runner while the ingress saturates the loop, and lets the floor run after the longest pause", async () => {
    const { load, limits, throttle } = watch(true);
    try {
      await saturate(load, RUN_THROTTLE_MAX_PAUSE_MS + 1000);
      // Halved down to the floor (1 of 10), then paused; the floor runs once the pause is long enough, then pauses again.
      expect(limits.slice(0, 4)).toEqual([5, 2, 1, 0]);
      expect(limits.slice(4, 6)).toEqual([1, 0]);
      await sleep(400);
      expect(throttle.limit).toBeGreaterThan(0);
      expect(limits.at(-1)).toBe(throttle.limit);
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
