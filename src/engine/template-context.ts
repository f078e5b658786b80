import type { IncomingEvent } from "../ingest/event.js";
import type { TemplateScope } from "../templates/compile-value.js";

/**
 * Header names are stored lower-case; users write them as they appear in documentation
 * (`request.headers["X-Request-ID"]`), so every string key is looked up lower-cased.
 */
function caseInsensitiveHeaders(headers: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  // fromEntries defines own properties, so a header named __proto__ stays a header.
  const lowered = Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]),
  );
  const own = (key: string | symbol): string | symbol =>
    typeof key === "string" && Object.hasOwn(lowered, key.toLowerCase()) ? key.toLowerCase() : key;
  // The target stays extensible (a frozen one could not answer for "X-Request-ID"); the write
  // traps keep it read-only instead.
  return new Proxy(lowered, {
    get: (target, key) => Reflect.get(target, own(key)),
    has: (target, key) => Reflect.has(target, own(key)),
    set: () => false,
    defineProperty: () => false,
    deleteProperty: () => false,
  });
}

/** Own data properties, so a key named __proto__ stays a key; not a frozen spread (eslint.config.js). */
function frozenCopy(record: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
  return Object.freeze(Object.fromEntries(Object.entries(record)));
}

/** The read-only context every template of one node renders against (SPEC 2.4). */
export function buildScope(input: {
  event: IncomingEvent;
  runId: string;
  workflowId: string;
  vars: Readonly<Record<string, unknown>>;
  nodes: Readonly<Record<string, unknown>>;
  /** Frozen once by its owner (runtime, `inlet test`) and shared by every scope, never copied. */
  env: Readonly<Record<string, string | undefined>>;
}): TemplateScope {
  const { event } = input;
  return Object.freeze({
    request: Object.freeze({
      body: event.body,
      headers: caseInsensitiveHeaders(event.headers),
      query: event.query,
      method: event.method,
      time: event.time,
      eventId: event.eventId,
      endpointId: event.endpointId,
      integration: event.integration,
    }),
    vars: frozenCopy(input.vars),
    nodes: frozenCopy(input.nodes),
    env: input.env,
    run: Object.freeze({ id: input.runId }),
    workflow: Object.freeze({ id: input.workflowId }),
  });
}
