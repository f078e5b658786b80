import cron from "node-cron";
import { DEDUP_SWEEP_CRON } from "../defaults.js";
import type { Store } from "../store/store.js";

export interface Sweeper {
  /** Deletes the keys expired by now; resolves with how many. */
  sweepNow(): Promise<number>;
  stop(): void;
}

/**
 * Removes expired dedup keys on a cron schedule, for stores that do not expire keys themselves.
 * Expired keys already behave as absent; sweeping only reclaims their space.
 */
export function startSweeper(options: {
  readonly store: Store;
  readonly schedule?: string;
  readonly onSwept?: (count: number) => void;
  readonly onError?: (error: unknown) => void;
}): Sweeper {
  const { store, schedule = DEDUP_SWEEP_CRON, onSwept, onError } = options;
  const sweepNow = async (): Promise<number> => {
    const count = await store.sweepExpiredKeys(Date.now());
    onSwept?.(count);
    return count;
  };
  // A scheduled sweep has no caller to reject to; its failure goes to onError and the next tick retries.
  const task = cron.schedule(schedule, () => sweepNow().catch((error: unknown) => onError?.(error)), {
    name: "inlet-dedup-sweeper",
    noOverlap: true,
    unref: true,
  });
  return {
    sweepNow,
    stop: () => {
      void Promise.resolve(task.destroy()).catch((error: unknown) => onError?.(error));
    },
  };
}
