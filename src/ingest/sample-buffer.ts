import type { Logger } from "pino";
import type { Snapshot } from "../config/snapshot.js";
import { SAMPLE_TRIM_GRACE_MS } from "../defaults.js";
import { errorMessage } from "../errors.js";
import type { Store, TrimOptions } from "../store/store.js";
import type { IncomingEvent } from "./event.js";
import { createTrimGrace, samplesToTrim } from "./sample-retention.js";
import { createSample } from "./samples.js";

export interface SampleBuffer {
  /** Remembers the event as a sample of its integration; O(1), no I/O, no flattening. */
  record(event: IncomingEvent, keep: number): void;
  /** Writes what was recorded since the last flush (readers call it first, to see fresh samples). */
  flush(): Promise<void>;
  /**
   * Deletes the stored samples the config no longer keeps: samples hold request bodies. At start
   * (no `previous`) at once, including every integration the config does not name; after a config
   * swap once the change has held for the grace period (sample-retention.ts), so a file caught
   * half-written costs no samples. Queued behind the writes, so none lands after it.
   */
  retain(previous: Snapshot | null, next: Snapshot): Promise<void>;
  /** Writes what was recorded; deletions still waiting out their grace are dropped, not run. */
  stop(): Promise<void>;
}

/**
 * Samples are a debugging aid, so they are not written on the hot path: the last `keep` events
 * of each integration are held in memory and written (flattened) once per interval. A crash
 * loses at most one interval of samples, never an event. Writes and trims run one after another,
 * each write with the count the config keeps when it runs (`keepNow`): a request that began
 * under an older config cannot bring back samples a reload removed.
 */
export function createSampleBuffer(options: {
  store: Store;
  intervalMs: number;
  logger: Logger;
  keepNow: (integration: string) => number;
  /** How long a reload's deletions wait; default SAMPLE_TRIM_GRACE_MS. */
  trimGraceMs?: number;
}): SampleBuffer {
  let pending = new Map<string, { keep: number; events: IncomingEvent[] }>();
  let flushing: Promise<void> = Promise.resolve();

  const grace = createTrimGrace({
    graceMs: options.trimGraceMs ?? SAMPLE_TRIM_GRACE_MS,
    // trim() logs its own failures; nothing else to tell from a timer.
    onDue: (due) => void trimNow(new Map(due.map((id) => [id, options.keepNow(id)])), {}),
  });

  async function write(batch: Map<string, { keep: number; events: IncomingEvent[] }>): Promise<void> {
    for (const [integration, { events }] of batch) {
      const keep = options.keepNow(integration);
      if (keep <= 0) continue;
      // A write trims the store to its count: during a grace, to the count the store still holds.
      const stored = Math.max(keep, grace.held(integration));
      for (const event of events.slice(-keep)) {
        try {
          await options.store.addSample(integration, createSample(event), stored);
        } catch (error) {
          options.logger.warn({ err: error, integration }, "could not keep sample");
          return;
        }
      }
    }
  }

  function flush(): Promise<void> {
    if (pending.size === 0) return flushing;
    const batch = pending;
    pending = new Map();
    flushing = flushing.then(() => write(batch));
    return flushing;
  }

  /**
   * One store call for the lot. A start lists every integration: as one write each, thousands of
   * writes pending at once made V8 allocate later requests' writes straight in the old generation
   * (allocation-site pretenuring), where they kept young objects alive and slowed every scavenge.
   */
  async function trim(keep: Map<string, number>, trimOptions: TrimOptions): Promise<void> {
    try {
      await options.store.trimSamples(keep, trimOptions);
    } catch (error) {
      options.logger.warn(
        { err: error, integrations: keep.size },
        `could not delete the samples the config no longer keeps: ${errorMessage(error)}`,
      );
    }
  }

  function trimNow(keep: Map<string, number>, trimOptions: TrimOptions): Promise<void> {
    flush();
    flushing = flushing.then(() => trim(keep, trimOptions));
    return flushing;
  }

  const timer = setInterval(() => {
    // write() logs its own failures; nothing else to tell from a timer.
    void flush();
  }, options.intervalMs);
  timer.unref();

  return {
    record(event, keep) {
      let entry = pending.get(event.integration);
      if (!entry) {
        entry = { keep, events: [] };
        pending.set(event.integration, entry);
      }
      entry.keep = keep;
      entry.events.push(event);
      if (entry.events.length > keep) entry.events.shift();
    },
    flush,
    retain(previous, next) {
      // A start lists the whole config: an integration it does not list was removed while down.
      // It trims at once: it is where deletions a stop dropped from their grace are caught up.
      if (previous === null) return trimNow(samplesToTrim(null, next), { dropUnlisted: true });
      const counts = previous.integrations;
      grace.defer(samplesToTrim(previous, next).keys(), (id) => counts.get(id)?.samples ?? 0);
      return Promise.resolve();
    },
    async stop() {
      clearInterval(timer);
      grace.cancel();
      await flush();
    },
  };
}
