import type { Snapshot } from "../config/snapshot.js";

/**
 * The integrations whose stored samples exceed what `next` keeps, with the count to keep: one whose
 * `samples` was lowered, and one removed from the config (0). With no `previous` (at start) every
 * configured integration is listed with its count, which catches a count lowered while the server
 * was down (the start also deletes the samples of every integration not listed).
 */
export function samplesToTrim(previous: Snapshot | null, next: Snapshot): Map<string, number> {
  const keep = new Map<string, number>();
  for (const [id, integration] of next.integrations) {
    const before = previous?.integrations.get(id)?.samples;
    if (before === undefined || integration.samples < before) keep.set(id, integration.samples);
  }
  for (const id of previous?.integrations.keys() ?? []) if (!next.integrations.has(id)) keep.set(id, 0);
  return keep;
}

/**
 * Deletions of samples that wait until the change asking for them has held for a grace period: a
 * config file caught half-written can drop an integration (or lower its count) for a moment, and
 * deleting at once would lose its samples for good when the full file lands.
 */
export interface TrimGrace {
  /**
   * Starts the grace of each integration, again if one runs: a reload that lowers a count during
   * an earlier grace must not have that grace's end trim to it. `held(id)` is how many samples the
   * store may hold of it now.
   */
  defer(integrations: Iterable<string>, held: (integration: string) => number): void;
  /** How many samples the store may hold of the integration while its grace runs; 0 when none runs. */
  held(integration: string): number;
  /** Forgets every pending deletion and its timer, running none. */
  cancel(): void;
}

/**
 * When an integration's grace ends, `onDue` gets it: the caller trims it to what the config keeps
 * then. No reload lowered it during the grace, so that count has held for all of it, and a reload
 * that brought it back (or raised it) is already counted.
 */
export function createTrimGrace(options: {
  graceMs: number;
  onDue: (integrations: string[]) => void;
}): TrimGrace {
  const pending = new Map<string, { round: number; held: number }>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let rounds = 0;

  return {
    defer(integrations, held) {
      const ids = [...integrations];
      if (ids.length === 0) return;
      const round = ++rounds;
      for (const id of ids) {
        pending.set(id, { round, held: Math.max(held(id), pending.get(id)?.held ?? 0) });
      }
      const timer = setTimeout(() => {
        timers.delete(timer);
        // An integration a later round deferred again waits for that round's timer.
        const due = ids.filter((id) => pending.get(id)?.round === round);
        for (const id of due) pending.delete(id);
        if (due.length > 0) options.onDue(due);
      }, options.graceMs);
      // A pending deletion must not keep a stopping process alive: the next start trims anyway.
      timer.unref();
      timers.add(timer);
    },
    held(integration) {
      return pending.get(integration)?.held ?? 0;
    },
    cancel() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      pending.clear();
    },
  };
}
