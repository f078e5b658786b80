import type { Logger } from "pino";
import type { Snapshot } from "../config/snapshot.js";
import type { Store } from "../store/store.js";
import type { SampleBuffer } from "./sample-buffer.js";

/**
 * Brings the stored samples down to what the config keeps now: an integration whose `samples` was
 * lowered keeps its newest ones, one removed from the config keeps none. Samples hold request
 * bodies, so a config asking for fewer is honoured in the store, not only in what the admin API
 * shows. With no `previous` (at start) every integration is trimmed to its count, which catches a
 * change made while the server was down. Failures are logged: the next sample trims again.
 */
export async function applySampleRetention(options: {
  readonly store: Store;
  readonly samples: SampleBuffer;
  readonly previous: Snapshot | null;
  readonly next: Snapshot;
  readonly logger: Logger;
}): Promise<void> {
  const { previous, next } = options;
  const keep = new Map<string, number>();
  for (const [id, integration] of next.integrations) {
    const before = previous?.integrations.get(id)?.samples;
    if (before === undefined || integration.samples < before) keep.set(id, integration.samples);
  }
  for (const id of previous?.integrations.keys() ?? []) if (!next.integrations.has(id)) keep.set(id, 0);
  if (keep.size === 0) return;
  // What was recorded under the previous config is written first, so that it is trimmed too.
  await options.samples.flush();
  await Promise.all(
    [...keep].map(([integration, count]) =>
      options.store.trimSamples(integration, count).catch((error: unknown) => {
        options.logger.warn(
          { err: error, integration },
          "could not trim the samples the config no longer keeps",
        );
      }),
    ),
  );
}
