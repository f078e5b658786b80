import type { Sample } from "../store/store.js";
import { redactHeaders, type IncomingEvent } from "./event.js";
import { flatten } from "./flatten.js";

/**
 * A kept request for "Retrieve data": raw and flattened. Redacting again is idempotent and
 * cheap, and keeps the guarantee even for an event built without redactHeaders.
 */
export function createSample(event: IncomingEvent): Sample {
  const headers = redactHeaders(event.headers);
  return {
    eventId: event.eventId,
    receivedAt: new Date(event.time).toISOString(),
    request: { method: event.method, headers, query: event.query, body: event.body },
    flattened: flatten({ body: event.body, headers, query: event.query }),
  };
}
