import type { Logger } from "pino";
import type { SnapshotHolder } from "../config/snapshot-holder.js";
import { errorMessage } from "../errors.js";
import type { Metrics } from "../metrics.js";
import type { HttpTransport } from "../nodes/node-type.js";
import type { RunRef, Store } from "../store/store.js";
import type { Runner } from "./dispatcher.js";
import { executeStoredRun } from "./run-stored.js";

/**
 * Runs workflows in this process, for the embedded stores. Runs are already durable (written with
 * the event), so dispatching only queues them in memory; a killed process loses nothing because
 * `resumeUnfinished` finds them again at the next start.
 */
export function createLocalRunner(deps: {
  store: Store;
  holder: SnapshotHolder;
  http: HttpTransport;
  env: Readonly<Record<string, string | undefined>>;
  logger: Logger;
  metrics: Metrics;
  concurrency: number;
}): Runner {
  const queue: RunRef[] = [];
  // Queued or executing here: a run both dispatched and resumed at start must not run twice at once.
  const known = new Set<string>();
  const active = new Set<Promise<void>>();
  const abort = new AbortController();
  let stopping = false;

  function pump(): void {
    while (!stopping && active.size < deps.concurrency && queue.length > 0) {
      const ref = queue.shift()!;
      const running: Promise<void> = executeStoredRun(ref, { ...deps, signal: abort.signal })
        .then(() => undefined)
        .catch((error: unknown) => {
          // The run stays unfinished in the store, so the next start retries it.
          deps.logger.error(
            { err: error, runId: ref.runId },
            `run could not be executed: ${errorMessage(error)}`,
          );
        })
        .finally(() => {
          known.delete(ref.runId);
          active.delete(running);
          pump();
        });
      active.add(running);
    }
  }

  function enqueue(runs: readonly RunRef[]): void {
    for (const ref of runs) {
      if (known.has(ref.runId)) continue;
      known.add(ref.runId);
      queue.push(ref);
    }
    pump();
  }

  return {
    async dispatch(runs) {
      enqueue(runs);
    },
    async resumeUnfinished() {
      const runs = await deps.store.listUnfinishedRuns();
      enqueue(runs);
      return runs.length;
    },
    async stop(graceMs) {
      stopping = true;
      const all = Promise.allSettled([...active]);
      const timer = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
      await Promise.race([all, timer]);
      abort.abort();
      await all;
    },
  };
}
