import type { RunRef } from "../store/store.js";

/**
 * Hands recorded runs to workers. In-process for the embedded stores; BullMQ with Redis. The
 * ingress awaits it before answering 200, so with a queue the job exists before the sender
 * hears "accepted".
 */
export interface RunDispatcher {
  dispatch(runs: readonly RunRef[]): Promise<void>;
}

/** A dispatcher that also owns the workers executing the runs. */
export interface Runner extends RunDispatcher {
  /** Queues every run a previous process left unfinished (SPEC 9.2); returns how many. */
  resumeUnfinished(): Promise<number>;
  /** Stops taking runs, waits up to `graceMs` for running ones, then interrupts them (they stay unfinished). */
  stop(graceMs: number): Promise<void>;
}
