import type { Logger } from "pino";
import type { Store } from "../store/store.js";
import type { IncomingEvent } from "./event.js";
import { createSample } from "./samples.js";

export interface SampleBuffer {
  /** Remembers the event as a sample of its integration; O(1), no I/O, no flattening. */
  record(event: IncomingEvent, keep: number): void;
  /** Writes what was recorded since the last flush (readers call it first, to see fresh samples). */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Samples are a debugging aid, so they are not written on the hot path: the last `keep` events
 * of each integration are held in memory and written (flattened) once per interval. A crash
 * loses at most one interval of samples, never an event.
 */
export function createSampleBuffer(options: {
  store: Store;
  intervalMs: number;
  logger: Logger;
}): SampleBuffer {
  let pending = new Map<string, { keep: number; events: IncomingEvent[] }>();
  let flushing: Promise<void> = Promise.resolve();

  async function write(batch: Map<string, { keep: number; events: IncomingEvent[] }>): Promise<void> {
    for (const [integration, { keep, events }] of batch) {
      for (const event of events) {
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
    async stop() {
      clearInterval(timer);
      await flush();
    },
  };
}
