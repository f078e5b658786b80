import type { ServerResponse } from "node:http";
import type { Logger } from "pino";
import * as defaults from "../defaults.js";
import { errorMessage, HttpError, StoreUnavailableError } from "../errors.js";
import { httpError } from "../http-errors.js";

export type ErrorMapper = (error: unknown) => HttpError;

/**
 * Maps any thrown value to the HttpError to answer with, logging what an operator must see: an
 * unexpected error, and an outage of something Inlet depends on (the store, the identity
 * provider's key set: a 5xx with a cause). An outage is logged once per Retry-After period, not
 * once per refused request, so an outage under load does not flood the logs.
 */
export function createErrorMapper(logger: Logger, now: () => number = Date.now): ErrorMapper {
  const outages = new Map<string, { loggedAt: number; suppressed: number }>();

  /** `answer` is what the sender gets: its Retry-After is how long the outage's log stays quiet. */
  function logOutage(answer: HttpError, error: unknown, message: string): void {
    const { code } = answer;
    const retryAfterS = Number(answer.headers["Retry-After"]);
    const quietS =
      Number.isFinite(retryAfterS) && retryAfterS > 0
        ? retryAfterS
        : defaults.STORE_UNAVAILABLE_RETRY_AFTER_S;
    const quietMs = quietS * 1000;
    const outage = outages.get(code);
    if (outage && now() - outage.loggedAt < quietMs) {
      outage.suppressed += 1;
      return;
    }
    logger.warn({ err: error, suppressed: outage?.suppressed ?? 0 }, message);
    outages.set(code, { loggedAt: now(), suppressed: 0 });
  }

  return (error) => {
    if (error instanceof HttpError) {
      if (error.status >= 500 && error.cause !== undefined) {
        logOutage(error, error, `${error.message}: answering ${error.status} (${rootCause(error)})`);
      }
      return error;
    }
    if (error instanceof StoreUnavailableError) {
      const answer = httpError("store-unavailable", {
        headers: { "Retry-After": String(defaults.STORE_UNAVAILABLE_RETRY_AFTER_S) },
      });
      logOutage(answer, error, "store unavailable: answering 503");
      return answer;
    }
    logger.error({ err: error }, "unexpected error");
    return httpError("internal");
  };
}

/** Causes followed at most: a chain that loops must not hold up the answer. */
const MAX_CAUSE_DEPTH = 8;

/**
 * The innermost cause that says something: "fetch failed" says less than the refused connection
 * under it. Node reports a refused dual-stack connect as an AggregateError with no message.
 */
function rootCause(error: Error): string {
  let said = error.message;
  let cause: unknown = error.cause;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && cause !== undefined; depth += 1) {
    const inner = cause instanceof AggregateError && cause.message === "" ? cause.errors[0] : cause;
    const message = errorMessage(inner);
    if (message !== "") said = message;
    cause = inner instanceof Error ? inner.cause : undefined;
  }
  return said;
}

/** The Content-Type of every JSON answer Inlet writes. */
export const JSON_CONTENT_TYPE = "application/json; charset=utf-8";

/** Assigned after the caller's headers (Inlet's own names), not spread before them (eslint.config.js). */
const contentHeaders = (length: number) => ({ "Content-Type": JSON_CONTENT_TYPE, "Content-Length": length });

/** Writes `{"error":{"code","message"}}`, plus the error's fields if it has any, with its status and headers. */
export function sendError(
  res: ServerResponse,
  error: HttpError,
  extraHeaders?: Record<string, string>,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: { code: error.code, message: error.message, ...error.fields } });
  res.writeHead(
    error.status,
    Object.assign({}, extraHeaders, error.headers, contentHeaders(Buffer.byteLength(body))),
  );
  res.end(body);
}

export function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers?: Record<string, string>,
): void {
  const body = JSON.stringify(value);
  res.writeHead(status, Object.assign({}, headers, contentHeaders(Buffer.byteLength(body))));
  res.end(body);
}
