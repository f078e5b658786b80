import type { Logger } from "pino";
import type { SnapshotHolder } from "../config/snapshot-holder.js";
import { LOCAL_RUN_QUEUE_MAX, LOCAL_RUN_REFILL_RETRY_MS } from "../defaults.js";
import { errorMessage } from "../errors.js";
import type { Metrics } from "../metrics.js";
import type { HttpTransport } from "../nodes/node-type.js";
import type { RunRef, Store } from "../store/store.js";
import type { Runner } from "./dispatcher.js";
import { executeStoredRun } from "./run-stored.js";
import { createRunThrottle, type IngressLoad } from "./run-throttle.js";

/**
 * Runs workflows in this process, for the embedded stores. Runs are already durable (written with
 * the event), so dispatching only queues them in memory; a killed process loses nothing because
 * `resumeUnfinished` finds them again at the next start. The memory queue is bounded: past it,
 * runs wait in the store and are read back, oldest first, once the queue has drained; while any
 * wait there, newly dispatched runs wait behind them, so runs start in accept order (and the
 * SQLite store makes rows of waiting runs a page at a time). How many run at once follows the run
 * throttle, which gives way to the ingress under load.
 */
export function createLocalRunner(deps: {
  store: Store;
  holder: SnapshotHolder;
  http: HttpTransport;
  env: Readonly<Record<string, string | undefined>>;
  logger: Logger;
  metrics: Metrics;
  concurrency: number;
  load: IngressLoad;
  /** Runs held in memory; tests lower it to see runs wait in the store. */
  queueMax?: number;
}): Runner {
  const queueMax = deps.queueMax ?? LOCAL_RUN_QUEUE_MAX;
  const queue: RunRef[] = [];
  // Queued or executing here: a run both dispatched and resumed at start must not run twice at once.
  const known = new Set<string>();
  const active = new Set<Promise<void>>();
  const abort = new AbortController();
  const runDeps = Object.assign({}, deps, { signal: abort.signal });
  const throttle = createRunThrottle({
    concurrency: deps.concurrency,
    load: deps.load,
    canPause: true,
    onChange: pump,
  });
  let stopping = false;
  /**
   * Runs wait in the store that are older than any dispatched now: the memory queue overflowed, or
   * (at start) a previous process left them. A dispatched run then waits there behind them, and
   * they are read back in accept order once the queue has drained.
   */
  let olderInStore = true;
  /** Reads of the store's unfinished runs under way. */
  let readingBack = 0;
  /** Runs dispatched during a read: queued after what it returns, unless older runs still wait. */
  const arrivedDuringRead: RunRef[] = [];
  let refilling: Promise<void> | null = null;
  /** The store failed a moment ago (a read back, or a run's writes): no read back until that moment has passed. */
  let storeResting = false;

  /** Whatever failed stays in the store, and is read back once the store has had a moment. */
  function restStore(): void {
    olderInStore = true;
    if (storeResting) return;
    storeResting = true;
    setTimeout(() => {
      storeResting = false;
      pump();
    }, LOCAL_RUN_REFILL_RETRY_MS).unref();
  }

  function pump(): void {
    while (!stopping && active.size < throttle.limit && queue.length > 0) {
      const ref = queue.shift()!;
      const running: Promise<void> = executeStoredRun(ref, runDeps)
        .then(() => undefined)
        .catch((error: unknown) => {
          // A store error: the run, unfinished there, runs again after a read back, with the runs
          // dispatched meanwhile waiting behind it.
          deps.logger.error(
            { err: error, runId: ref.runId },
            `run could not be executed, retrying in ${LOCAL_RUN_REFILL_RETRY_MS} ms: ${errorMessage(error)}`,
          );
          restStore();
        })
        .finally(() => {
          known.delete(ref.runId);
          active.delete(running);
          pump();
        });
      active.add(running);
    }
    if (!stopping && olderInStore && queue.length === 0 && refilling === null && !storeResting) {
      refilling = refill().finally(() => {
        refilling = null;
        pump();
      });
    }
  }

  /** Queues the oldest unfinished runs, at most `page`; returns how many were listed. */
  async function readBack(page: number): Promise<number> {
    readingBack += 1;
    try {
      const runs = await deps.store.listUnfinishedRuns(page);
      // A full page means more may wait in the store, even if every run of it fit in the queue.
      if (runs.length === page) olderInStore = true;
      enqueue(runs);
      return runs.length;
    } catch (error) {
      // Nothing was read: whatever waited in the store still does.
      olderInStore = true;
      throw error;
    } finally {
      readingBack -= 1;
      if (readingBack === 0) {
        const arrived = arrivedDuringRead.splice(0);
        // Otherwise they wait in the store behind older runs, and a later read returns them.
        if (!olderInStore) enqueue(arrived);
      }
    }
  }

  async function refill(): Promise<void> {
    olderInStore = false;
    try {
      // Executing runs are listed too (they are unfinished); `known` skips them.
      await readBack(queueMax + active.size);
    } catch (error) {
      deps.logger.warn({ err: error }, `queued runs could not be read back: ${errorMessage(error)}`);
      restStore();
    }
  }

  function enqueue(runs: readonly RunRef[]): void {
    for (const ref of runs) {
      if (known.has(ref.runId)) continue;
      if (queue.length >= queueMax) {
        olderInStore = true;
        continue;
      }
      known.add(ref.runId);
      queue.push(ref);
    }
    pump();
  }

  return {
    async dispatch(runs) {
      if (readingBack > 0) arrivedDuringRead.push(...runs);
      // Left in the store behind older runs; pump reads them back once the queue has drained.
      else if (olderInStore) pump();
      else enqueue(runs);
    },
    async resumeUnfinished() {
      // The page read now is the store's truth: only a full one leaves runs behind.
      olderInStore = false;
      return readBack(queueMax);
    },
    async stop(graceMs) {
      stopping = true;
      throttle.stop();
      const all = Promise.allSettled([...active, ...(refilling ? [refilling] : [])]);
      const timer = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
      await Promise.race([all, timer]);
      abort.abort();
      await all;
    },
  };
}
