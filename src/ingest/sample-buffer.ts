import type { Logger } from "pino";
import type { Snapshot } from "../config/snapshot.js";
import { errorMessage } from "../errors.js";
import type { Store, TrimOptions } from "../store/store.js";
import type { IncomingEvent } from "./event.js";
import { samplesToTrim } from "./sample-retention.js";
import { createSample } from "./samples.js";

export interface SampleBuffer {
  /** Remembers the event as a sample of its integration; O(1), no I/O, no flattening. */
  record(event: IncomingEvent, keep: number): void;
  /** Writes what was recorded since the last flush (readers call it first, to see fresh samples). */
  flush(): Promise<void>;
  /**
   * After a config swap (or at start, with no `previous`), deletes the stored samples the config no
   * longer keeps: samples hold request bodies. At start that includes every integration the config
   * does not name. Queued behind the writes, so none lands after it.
   */
  retain(previous: Snapshot | null, next: Snapshot): Promise<void>;
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
}): SampleBuffer {
  let pending = new Map<string, { keep: number; events: IncomingEvent[] }>();
  let flushing: Promise<void> = Promise.resolve();

  async function write(batch: Map<string, { keep: number; events: IncomingEvent[] }>): Promise<void> {
    for (const [integration, { events }] of batch) {
      const keep = options.keepNow(integration);
      if (keep <= 0) continue;
      for (const event of events.slice(-keep)) {
        try {
          await options.store.addSample(integration, createSample(event), keep);
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
      const keep = samplesToTrim(previous, next);
      // A start lists the whole config: an integration it does not list was removed while down.
      const dropUnlisted = previous === null;
      if (keep.size === 0 && !dropUnlisted) return flushing;
      flush();
      flushing = flushing.then(() => trim(keep, { dropUnlisted }));
      return flushing;
    },
    async stop() {
      clearInterval(timer);
      await flush();
    },
  };
}
