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
