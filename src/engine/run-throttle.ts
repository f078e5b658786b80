import { performance } from "node:perf_hooks";
import {
  RUN_THROTTLE_BUSY_UTILIZATION,
  RUN_THROTTLE_FLOOR_SHARE,
  RUN_THROTTLE_INTERVAL_MS,
} from "../defaults.js";

/** Counts ingress requests, so the runner can tell a loop busy serving senders from one busy with runs. */
export class IngressLoad {
  requests = 0;

  note(): void {
    this.requests += 1;
  }
}

export interface RunThrottle {
  /** Runs this process may execute at once right now. */
  readonly limit: number;
  stop(): void;
}

/**
 * The ingress is the hot path, and a run is already durable when its sender hears 200, so under
 * load runs wait rather than requests. Each interval: if the event loop was saturated while
 * requests kept arriving, halve the runs allowed at once (never below a floor share of the
 * configured concurrency, so runs always progress); otherwise raise it one step back towards the
 * concurrency. Additive increase, multiplicative decrease, as TCP does; `onChange` lets the runner
 * apply a new limit at once.
 */
export function createRunThrottle(options: {
  readonly concurrency: number;
  readonly load: IngressLoad;
  readonly onChange: (limit: number) => void;
}): RunThrottle {
  const { concurrency, load } = options;
  const floor = Math.max(1, Math.ceil(concurrency * RUN_THROTTLE_FLOOR_SHARE));
  const step = floor;
  let limit = concurrency;
  let lastUtilization = performance.eventLoopUtilization();
  let lastRequests = load.requests;

  const timer = setInterval(() => {
    const current = performance.eventLoopUtilization();
    const { utilization } = performance.eventLoopUtilization(current, lastUtilization);
    lastUtilization = current;
    const requestsArrived = load.requests !== lastRequests;
    lastRequests = load.requests;
    const next =
      utilization >= RUN_THROTTLE_BUSY_UTILIZATION && requestsArrived
        ? Math.max(floor, Math.floor(limit / 2))
        : Math.min(concurrency, limit + step);
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
