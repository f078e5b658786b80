import { RUN_HISTORY_LIMIT } from "../defaults.js";
import type { RetryOutcome, RunStatus } from "./store.js";

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

/** Why a kept run cannot be retried, or null when it can; every store answers in this order. */
export function retryRefusal(run: {
  readonly status: RunStatus;
  readonly retriedBy: string | null;
}): Extract<RetryOutcome, { outcome: "already-retried" | "not-failed" }> | null {
  if (run.retriedBy !== null) return { outcome: "already-retried", retriedBy: run.retriedBy };
  if (run.status !== "failed") return { outcome: "not-failed" };
  return null;
}
