import { RUN_HISTORY_LIMIT } from "../defaults.js";
import { InletError } from "../errors.js";
import type { RunStatus } from "./store.js";

/** Tuning every implementation accepts; tests lower the history limit to see pruning happen. */
export interface StoreTuning {
  /** Finished runs kept; older finished runs (and events no run references) are pruned. */
  readonly runHistoryLimit?: number;
}

export function runHistoryLimit(tuning: StoreTuning | undefined): number {
  return tuning?.runHistoryLimit ?? RUN_HISTORY_LIMIT;
}

export function isFinished(status: RunStatus): boolean {
  return status === "succeeded" || status === "failed";
}

/** createRun on an event that was never recorded (or already pruned): a caller bug, not an outage. */
export function eventNotFound(eventId: string): InletError {
  return new InletError("event-not-found", `No recorded event ${eventId}`, { userError: false });
}
