import { performance } from "node:perf_hooks";
import {
  RUN_THROTTLE_BUSY_UTILIZATION,
  RUN_THROTTLE_FLOOR_SHARE,
  RUN_THROTTLE_INTERVAL_MS,
  RUN_THROTTLE_LIGHT_UTILIZATION,
  RUN_THROTTLE_MAX_PAUSE_MS,
} from "../defaults.js";

/**
 * Counts ingress requests, so the runner can tell a loop busy serving senders from one busy with
 * runs, and the time the store's writes waited for a write lock held elsewhere: the loop idles
 * then with every sender waiting for that commit, and that is busy time, not a lull.
 */
export class IngressLoad {
  requests = 0;
  storeWaitMs = 0;

  note(): void {
    this.requests += 1;
  }

  noteStoreWait(ms: number): void {
    this.storeWaitMs += ms;
  }
}

export interface RunThrottle {
  /** Runs this process may start right now (0 while paused). */
  readonly limit: number;
  stop(): void;
}

/**
 * The ingress is the hot path, and a run is already durable when its sender hears 200, so under
 * load runs wait rather than requests. Each interval: if the event loop was saturated while
 * requests kept arriving, runs give way; otherwise the runs allowed at once rise one step back
 * towards the concurrency. `onChange` lets the runner apply a new limit at once.
 *
 * With `canPause` (the embedded runner), giving way is a pause: no run starts while the
 * saturation lasts (a run started beside a saturated ingress cost it several times what the same
 * run costs an idle loop), and once a pause has lasted RUN_THROTTLE_MAX_PAUSE_MS the floor runs
 * for one interval, so runs progress under a load that never ends. A pause also tells whose load
 * it was: with no run started, a loop left light (under RUN_THROTTLE_LIGHT_UTILIZATION) was busy
 * with runs, not with senders (at a steady rate the two together can keep it 90 % busy). Runs then
 * get their whole concurrency back, and a busy loop does not stop them again for
 * RUN_THROTTLE_MAX_PAUSE_MS. Before that probe, runs were held at one or two at once in such a
 * loop and fell behind the arrivals. A paused loop that is merely below saturation (the senders
 * slowed for an interval) was the senders' all along: runs climb back one step at a time, and the
 * next saturated interval pauses them again. Taking such a dip for the probe's answer had given
 * runs their whole concurrency for a second beside a flooded ingress.
 * BullMQ's worker cannot run at concurrency 0: the queue runner halves its limit instead, down
 * to a floor share of the concurrency (additive increase, multiplicative decrease, as TCP does).
 */
export function createRunThrottle(options: {
  readonly concurrency: number;
  readonly load: IngressLoad;
  readonly canPause: boolean;
  readonly onChange: (limit: number) => void;
}): RunThrottle {
  const { concurrency, load } = options;
  const floor = Math.max(1, Math.ceil(concurrency * RUN_THROTTLE_FLOOR_SHARE));
  const step = floor;
  let limit = concurrency;
  let pausedAt = 0;
  /** Until then (performance.now()), a busy loop is the runs' doing: a pause showed the ingress light. */
  let runsBusyUntil = 0;
  let lastUtilization = performance.eventLoopUtilization();
  let lastRequests = load.requests;
  let lastStoreWaitMs = load.storeWaitMs;

  function saturatedLimit(now: number): number {
    if (!options.canPause) return Math.max(floor, Math.floor(limit / 2));
    if (limit > 0) {
      pausedAt = now;
      return 0;
    }
    return now - pausedAt >= RUN_THROTTLE_MAX_PAUSE_MS ? floor : 0;
  }

  function nextLimit(saturated: boolean, light: boolean, now: number): number {
    if (light && limit === 0) {
      // A pause that left the loop light: the runs were its load, not the senders.
      runsBusyUntil = now + RUN_THROTTLE_MAX_PAUSE_MS;
      return concurrency;
    }
    if (saturated && now >= runsBusyUntil) return saturatedLimit(now);
    return Math.min(concurrency, limit + step);
  }

  const timer = setInterval(() => {
    const current = performance.eventLoopUtilization();
    const { active, idle } = performance.eventLoopUtilization(current, lastUtilization);
    lastUtilization = current;
    // Without it, a loop idling on the checkpoint thread's lock looked light and started the runs.
    const waited = load.storeWaitMs - lastStoreWaitMs;
    lastStoreWaitMs = load.storeWaitMs;
    const utilization = active + idle > 0 ? (active + Math.min(waited, idle)) / (active + idle) : 0;
    const requestsArrived = load.requests !== lastRequests;
    lastRequests = load.requests;
    const next = nextLimit(
      utilization >= RUN_THROTTLE_BUSY_UTILIZATION && requestsArrived,
      utilization < RUN_THROTTLE_LIGHT_UTILIZATION || !requestsArrived,
      performance.now(),
    );
    if (next === limit) return;
    limit = next;
    options.onChange(limit);
  }, RUN_THROTTLE_INTERVAL_MS);
  timer.unref();

  return {
    get limit() {
      return limit;
    },
    stop() {
      clearInterval(timer);
    },
  };
}
