import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import * as defaults from "../defaults.js";
import type { SnapshotHolder } from "../config/snapshot-holder.js";
import type { RuntimeIntegration } from "../config/snapshot.js";
import type { Rate } from "../config/units.js";
import { computeDedupHash } from "../dedup/hash.js";
import type { RunDispatcher } from "../engine/dispatcher.js";
import type { IngressLoad } from "../engine/run-throttle.js";
import { httpError } from "../http-errors.js";
import { timeOrderedId } from "../ids.js";
import { redactHeaders, type IncomingEvent } from "../ingest/event.js";
import type { SampleBuffer } from "../ingest/sample-buffer.js";
import type { Metrics } from "../metrics.js";
import type { Store } from "../store/store.js";
import { parseJsonBody, readJsonBody, readRawJsonBody, type JsonBody } from "./read-body.js";
import { JSON_CONTENT_TYPE, sendError, type ErrorMapper } from "./error-response.js";
import type { RateLimits } from "./rate-limit.js";
import { drainUnreadBody } from "./unread-body.js";

export const INCOMING_PREFIX = "/v1/incoming/";
const ACCEPTED_METHODS = new Set(["POST", "PUT"]);

export interface IncomingDeps {
  readonly holder: SnapshotHolder;
  readonly store: Store;
  readonly dispatcher: RunDispatcher;
  readonly rateLimits: RateLimits;
  readonly samples: SampleBuffer;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly now: () => number;
  readonly toHttpError: ErrorMapper;
  readonly isReady: () => boolean;
  readonly load: IngressLoad;
}

/**
 * The hot path: POST/PUT /v1/incoming/{endpoint}, served on node:http ahead of express.
 * Order: resolve → auth → rate limit → body → dedup + durable record → 200/204; a signature is
 * checked on the body, so there the order is body → auth → rate limit. Nothing before
 * the record claims a dedup key, so any failure leaves none behind.
 */
export function createIncomingHandler(
  deps: IncomingDeps,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    deps.load.note();
    if (!deps.isReady()) {
      // Shutting down: refuse new events (closeIfStopping closes the connection).
      finishWithError(req, res, httpError("not-ready", { headers: { "Retry-After": "1" } }), "unknown");
      return;
    }
    // The snapshot is read once: a reload during this request does not affect it.
    const snapshot = deps.holder.current;
    const endpoint = endpointOf(req.url ?? "");
    const integration = snapshot.byEndpoint.get(endpoint);
    if (!integration || !integration.enabled) {
      finishWithError(req, res, httpError("unknown-endpoint"), "unknown");
      return;
    }
    handle(integration, req, res).catch((error: unknown) => {
      finishWithError(req, res, deps.toHttpError(error), integration.id, dedupHeader(integration));
    });
  };

  async function limitRate(integrationId: string, rate: Rate): Promise<void> {
    const waitMs = await deps.rateLimits.consume(integrationId, rate);
    if (waitMs !== null) {
      throw httpError("rate-limited", { headers: { "Retry-After": String(Math.ceil(waitMs / 1000)) } });
    }
  }

  async function handle(
    integration: RuntimeIntegration,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const method = req.method ?? "";
    if (!ACCEPTED_METHODS.has(method)) {
      throw httpError("method-not-allowed", { headers: { Allow: "POST, PUT" } });
    }
    const { verifier } = integration;
    if (!verifier.needsBody) {
      // `none` answers synchronously: no promise, no microtask on the hot path.
      const verified = verifier.verify({ headers: req.headers, rawBody: EMPTY });
      if (verified) await verified;
      if (integration.rateLimit) await limitRate(integration.id, integration.rateLimit.rate);
    }
    const reading = {
      maxBytes: integration.maxBodyBytes,
      maxDepth: defaults.MAX_BODY_DEPTH,
      maxLeaves: defaults.MAX_BODY_LEAVES,
      keepReceived: verifier.needsBody,
    };
    let body: JsonBody;
    if (verifier.needsBody) {
      // The signature is checked on the bytes before they are parsed: a sender without the secret
      // hears 401, never how its body parses.
      const signed = await readRawJsonBody(req, reading);
      await verifier.verify({ headers: req.headers, rawBody: signed.raw, receivedBody: signed.received });
      body = parseJsonBody(signed.raw, signed.received, reading);
      // Counted only once the signature holds: unsigned requests must not use up the sender's budget.
      if (integration.rateLimit) await limitRate(integration.id, integration.rateLimit.rate);
    } else {
      body = await readJsonBody(req, reading);
    }

    const time = deps.now();
    const event: IncomingEvent = {
      eventId: timeOrderedId(time),
      integration: integration.id,
      endpointId: integration.endpoint,
      method,
      time,
      headers: redactHeaders(req.headers),
      query: parseQuery(req.url ?? ""),
      body: body.value,
    };
    const hash = integration.dedup
      ? computeDedupHash(integration.dedup, event, body.text ?? body.raw.toString("utf8"))
      : null;
    const dedup =
      hash !== null && integration.dedup
        ? { scope: integration.id, hash, ttlMs: integration.dedup.ttlMs }
        : null;

    const stopTimer = deps.metrics.storeLatency.startTimer({ operation: "accept" });
    let outcome;
    try {
      outcome = await deps.store.accept({
        event,
        bodyJson: body.text,
        dedup,
        workflows: integration.workflows,
      });
    } finally {
      stopTimer();
    }

    if (outcome.outcome === "duplicate") {
      deps.metrics.duplicates.inc({ integration: integration.id });
      deps.metrics.requests.inc({ integration: integration.id, status: 204 });
      closeIfStopping(res);
      res.writeHead(204, { "Inlet-Dedup": "duplicate", "Inlet-Duplicate-Of": outcome.firstEventId });
      res.end();
      return;
    }
    try {
      await deps.dispatcher.dispatch(outcome.runs);
    } catch (error) {
      // The event and its runs are durable: the runner's periodic resume queues them later.
      deps.logger.warn({ err: error, eventId: event.eventId }, "runs recorded but not queued yet");
    }
    deps.metrics.requests.inc({ integration: integration.id, status: 200 });
    closeIfStopping(res);
    sendAccepted(res, event.eventId, integration.dedup ? (dedup ? "new" : "skipped") : undefined);
    if (integration.samples > 0) deps.samples.record(event, integration.samples);
  }

  /** A request answered while shutting down closes its connection, so pooled senders move on. */
  function closeIfStopping(res: ServerResponse): void {
    if (!deps.isReady()) res.shouldKeepAlive = false;
  }

  function finishWithError(
    req: IncomingMessage,
    res: ServerResponse,
    error: ReturnType<typeof httpError>,
    integration: string,
    extraHeaders?: Record<string, string>,
  ): void {
    deps.metrics.requests.inc({ integration, status: error.status });
    closeIfStopping(res);
    sendError(res, error, extraHeaders);
    // A body refused early or too large: read and dropped, so that the answer reaches the sender.
    if (!req.complete) drainUnreadBody(req);
  }
}

const EMPTY = Buffer.alloc(0);

// An event id is a UUID: nothing in it needs escaping.
const acceptedBody = (eventId: string): string => `{"eventId":"${eventId}","status":"accepted"}`;
/** UUIDs have one length, and so has the 200's body: its headers are built once, not per request. */
const ACCEPTED_BODY_BYTES = Buffer.byteLength(acceptedBody(timeOrderedId(0)));
function acceptedHeaders(dedup?: string): Readonly<Record<string, string | number>> {
  const headers: Record<string, string | number> = {};
  if (dedup !== undefined) headers["Inlet-Dedup"] = dedup;
  headers["Content-Type"] = JSON_CONTENT_TYPE;
  headers["Content-Length"] = ACCEPTED_BODY_BYTES;
  return Object.freeze(headers);
}
const ACCEPTED_HEADERS = {
  none: acceptedHeaders(),
  new: acceptedHeaders("new"),
  skipped: acceptedHeaders("skipped"),
} as const;

/** `{"eventId","status":"accepted"}`, with `Inlet-Dedup` when the integration deduplicates. */
function sendAccepted(res: ServerResponse, eventId: string, dedup: "new" | "skipped" | undefined): void {
  const body = acceptedBody(eventId);
  const headers = ACCEPTED_HEADERS[dedup ?? "none"];
  res.writeHead(
    200,
    body.length === ACCEPTED_BODY_BYTES
      ? headers
      : Object.assign({}, headers, { "Content-Length": Buffer.byteLength(body) }),
  );
  res.end(body);
}

function dedupHeader(integration: RuntimeIntegration): Record<string, string> | undefined {
  return integration.dedup ? { "Inlet-Dedup": "skipped" } : undefined;
}

function endpointOf(url: string): string {
  const end = url.indexOf("?");
  const path = end === -1 ? url.slice(INCOMING_PREFIX.length) : url.slice(INCOMING_PREFIX.length, end);
  return path.endsWith("/") ? path.slice(0, -1).toLowerCase() : path.toLowerCase();
}

function parseQuery(url: string): Record<string, string | string[]> {
  const start = url.indexOf("?");
  const query: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  if (start === -1) return query;
  for (const [key, value] of new URLSearchParams(url.slice(start + 1))) {
    const existing = query[key];
    query[key] =
      existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return query;
}
